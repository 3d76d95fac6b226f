import { describe, expect, it } from "vitest";
import { postJson, startFleet } from "../support/fleet.js";

const long = { model: "tiny", messages: [{ role: "user", content: "go on" }], max_tokens: 60, stream: true };

describe("overload", () => {
  it("queues when every node is saturated, then answers 429 or 503 with Retry-After", async () => {
    const fleet = await startFleet([{ model: "tiny", slots: 1, tokensPerSecond: 50 }], {
      config: { resilience: { saturation_per_slot: 1, queue_length: 1, queue_timeout_ms: 300 } },
    });
    try {
      const running = await postJson(`${fleet.baseURL}/chat/completions`, long);
      expect(running.status).toBe(200);
      const [queued, rejected] = await Promise.all([
        postJson(`${fleet.baseURL}/chat/completions`, long),
        new Promise((resolve) => setTimeout(resolve, 50)).then(() =>
          postJson(`${fleet.baseURL}/chat/completions`, long),
        ),
      ]);
      expect(rejected.status).toBe(429);
      expect(((await rejected.json()) as { error: { code: string } }).error.code).toBe("overloaded");
      expect(Number(rejected.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(queued.status).toBe(503);
      expect(((await queued.json()) as { error: { code: string } }).error.code).toBe("overloaded_timeout");
      expect(queued.headers.get("retry-after")).toBeTruthy();
      expect((await running.text()).trimEnd().endsWith("data: [DONE]")).toBe(true);
      const after = await postJson(`${fleet.baseURL}/chat/completions`, { ...long, max_tokens: 2 });
      expect(after.status).toBe(200);
      await after.text();
    } finally {
      await fleet.close();
    }
  });
});
