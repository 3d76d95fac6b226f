import { afterEach, describe, expect, it } from "vitest";
import { adminNodes } from "../faults/support/admin.js";
import { postJson, startFleet, type TestFleet } from "../support/fleet.js";
import { gatewayOn, hostileNode, json } from "./support/node-harness.js";

/**
 * Issue 15, finding 5: a node whose `/slots` answered `[]` was taken to have zero slots, so it was
 * always saturated: every request waited out the admission queue and got 503 `overloaded_timeout`.
 * Zero or missing slot counts are unknown, not full.
 */
let fleet: TestFleet | undefined;
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await fleet?.close();
  await close?.();
  fleet = close = undefined;
});

const hello = { model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 3 };

describe("a node that reports no slots", () => {
  it("is served at once, not queued until overloaded_timeout", async () => {
    fleet = await startFleet([{ faults: { zeroSlots: true } }], {
      config: { resilience: { queue_timeout_ms: 3000 } },
    });
    await fleet.gateway.probeNow();
    // Treated as full, it would wait out the queue and get 503 overloaded_timeout.
    const response = await postJson(`${fleet.baseURL}/chat/completions`, hello);
    expect(response.status).toBe(200);
  });

  it("whose /props says total_slots 0 and /slots is empty keeps its slots unknown", async () => {
    const answer = { choices: [{ index: 0, message: { role: "assistant", content: "ok" } }] };
    const node = await hostileNode((_req, res) => json(res, 200, answer), {
      "/props": { total_slots: 0 },
      "/slots": [],
    });
    const gateway = await gatewayOn([node.url], { resilience: { queue_timeout_ms: 3000 } });
    close = async () => {
      await gateway.close();
      await node.close();
    };
    const response = await postJson(`${gateway.url}/v1/chat/completions`, hello);
    expect(response.status).toBe(200);
    const [view] = await adminNodes(gateway.url);
    expect(view?.state).toBe("healthy");
  });
});
