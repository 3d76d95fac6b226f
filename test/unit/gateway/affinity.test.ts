import { describe, expect, it } from "vitest";
import { AffinityMemory } from "../../../src/gateway/affinity.js";
import { prefixChain } from "../../../src/routing/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { silentLogger } from "../../../src/telemetry/index.js";

const system = { role: "system", content: "You answer from the document." } as const;
const doc = { role: "user", content: "A long shared document, then a question." } as const;

describe("AffinityMemory", () => {
  it("recalls the node that served the longest prefix of a request", async () => {
    const memory = new AffinityMemory(new MemoryStore(), 60_000, silentLogger);
    memory.remember(
      "shares-system",
      ...prefixChain([system, { role: "user", content: "other" }]).map((l) => l.key),
    );
    memory.remember("served-doc", ...prefixChain([system, doc]).map((l) => l.key));
    await new Promise((resolve) => setTimeout(resolve, 0));
    const turn = prefixChain([
      system,
      doc,
      { role: "assistant", content: "ok" },
      { role: "user", content: "next" },
    ]);
    expect(await memory.recall(turn)).toEqual({ nodeId: "served-doc", messages: 2 });
    const fresh = prefixChain([system, { role: "user", content: "brand new" }]);
    expect(await memory.recall(fresh)).toEqual({ nodeId: "served-doc", messages: 1 });
    expect(await memory.recall(prefixChain([{ role: "user", content: "never seen" }]))).toBeUndefined();
  });
});
