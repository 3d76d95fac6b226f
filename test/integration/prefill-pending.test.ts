import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch, postJson, startFleet, type TestFleet } from "../support/fleet.js";

interface NodesReport {
  nodes: {
    in_flight: number;
    prefill_pending_tokens: number;
    prefill_tokens_per_sec: number | null;
  }[];
}

/** ~2,000 prompt tokens at 500 tokens/s: four seconds of prompt evaluation to look at, even on a loaded machine. */
const LONG_PROMPT = `Summarise this. ${"The quick brown fox jumps over the lazy dog. ".repeat(200)}`;

describe("prompt work pending on a node", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny", slots: 2, prefillTokensPerSecond: 500 }]);
  });
  afterAll(() => fleet.close());

  const pending = async () => {
    const report = (await (await adminFetch(fleet.gateway.url, "/admin/nodes")).json()) as NodesReport;
    return report.nodes[0]!;
  };

  it("is counted from sending a stream until its first token, then released", async () => {
    const answer = postJson(
      `${fleet.baseURL}/chat/completions`,
      { model: "tiny", messages: [{ role: "user", content: LONG_PROMPT }], max_tokens: 4, stream: true },
      { headers: { "content-type": "application/json" } },
    );
    await expect.poll(async () => (await pending()).in_flight, { timeout: 5000 }).toBe(1);
    expect((await pending()).prefill_pending_tokens).toBeGreaterThan(1500);

    // The gateway answers once the node's first token is there: the prompt is evaluated by then.
    const response = await answer;
    expect(response.status).toBe(200);
    expect((await pending()).prefill_pending_tokens).toBe(0);
    await response.text();
    // The node's own timings of that prompt taught the gateway its pace.
    await expect.poll(async () => (await pending()).prefill_tokens_per_sec, { timeout: 5000 }).not.toBeNull();
  });
});
