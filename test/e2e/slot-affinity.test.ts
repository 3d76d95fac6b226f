import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eGateway, startE2eGateway, waitFor } from "./gateway-fleet.js";
import { type LlamaNode, startLlamaNode, TINY_MODEL_ALIAS } from "./llama-harness.js";

/**
 * Slot-level affinity is llama-server's: without `id_slot` it gives a request the idle slot whose
 * cached prompt shares the longest prefix with it, and saves a slot it must reuse to its host-memory
 * prompt cache, from which a returning conversation is restored into whichever slot is free. So the
 * gateway places conversations on nodes and leaves `id_slot` alone: pinning would only make a turn
 * queue behind its old slot while another stands free. These tests hold llama-server to that.
 */

let node: LlamaNode;
let gw: E2eGateway;

beforeAll(async () => {
  node = await startLlamaNode({ index: 0, slots: 2, ctxSize: 2 * 4096 });
  gw = await startE2eGateway([node.url]);
  await waitFor(async () => (await gw.adminNodes()).every((n) => n.state === "healthy"), 10_000);
});
afterAll(async () => {
  await gw?.close();
  await node?.stop();
});

type Message = { role: "system" | "user" | "assistant"; content: string };

/** A conversation with a long document of its own, so its cached prefix is unmistakable. */
function conversation(tag: string) {
  const words = Array.from({ length: 300 }, (_, i) => `${tag}${(i * 7919) % 1000}`).join(" ");
  const messages: Message[] = [
    { role: "user", content: `Read document ${tag}: ${words}. What is it about?` },
  ];
  return {
    async turn(question: string) {
      const answer = await gw.client.chat.completions.create({
        model: TINY_MODEL_ALIAS,
        messages,
        max_tokens: 4,
      });
      messages.push({ role: "assistant", content: answer.choices[0]?.message.content ?? "" });
      messages.push({ role: "user", content: question });
      const prompt = answer.usage?.prompt_tokens ?? 0;
      return { prompt, cached: answer.usage?.prompt_tokens_details?.cached_tokens ?? 0 };
    },
  };
}

describe("conversations sharing one multi-slot llama-server", () => {
  it("each come back to their own cached prefix, whatever order they take turns in", async () => {
    const talks = { a: conversation("alpha"), b: conversation("beta") };
    const first = { a: await talks.a.turn("And then?"), b: await talks.b.turn("And then?") };
    expect(first.a.prompt).toBeGreaterThan(300);
    // Out of step with least-recently-used order: a slot picked by age alone would hold the other one.
    for (const who of ["b", "a", "a", "b"] as const) {
      const later = await talks[who].turn("Go on.");
      // All but the newest question and answer came from the conversation's own cache.
      expect(later.cached).toBeGreaterThan(first[who].prompt * 0.9);
    }
  });

  it("gets a conversation's prefix back after a third conversation took its slot", async () => {
    const a = conversation("gamma");
    const b = conversation("delta");
    const c = conversation("epsilon");
    const firstA = await a.turn("And then?");
    await b.turn("And then?");
    // Two slots, three conversations: the third evicts the least recently used slot, gamma's.
    await c.turn("And then?");
    const back = await a.turn("Go on.");
    expect(back.cached).toBeGreaterThan(firstA.prompt * 0.9);
  });
});
