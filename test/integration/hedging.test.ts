import { describe, expect, it } from "vitest";
import { postJson, startFleet } from "../support/fleet.js";

const ask = { model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 2, stream: true };

describe("hedged streams", () => {
  it("asks the next node when the first is slower than its p95, and the first token wins", async () => {
    const fleet = await startFleet([{ model: "tiny" }, { model: "tiny" }], {
      config: {
        routing: { strategy: "round-robin" },
        resilience: { hedging: true, ttft_timeout_ms: 20_000 },
      },
    });
    try {
      for (let i = 0; i < 44; i++) await (await postJson(`${fleet.baseURL}/chat/completions`, ask)).text();
      fleet.sims[0]!.setFaults({ hangBeforeHeaders: true });
      for (let i = 0; i < 2; i++) {
        const started = performance.now();
        const response = await postJson(`${fleet.baseURL}/chat/completions`, ask);
        const text = await response.text();
        expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
        expect(performance.now() - started).toBeLessThan(5000);
      }
    } finally {
      await fleet.close();
    }
  });
});
