import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { adminNodes } from "../faults/support/admin.js";
import { postJson, startFleet, type TestFleet } from "../support/fleet.js";
import { gatewayOn } from "./support/node-harness.js";

/**
 * Issue 15, finding 3: one client could open every node's breaker, so everyone got errors.
 * - Requests whose size makes them slow (`max_tokens: 1000, ignore_eos: true`) timed out on
 *   `response_timeout_ms` and counted against each node in turn. The answer deadline now grows with
 *   the prompt and answer asked for, at the node's pace.
 * - llama-server's 500 "image input is not supported" was retried on every node and opened their
 *   breakers; for the next seconds the model got 404. Refusals any node would give are now the
 *   client's final 400, tried once, costing the node nothing. A node's 501 likewise.
 * - The other way round, a node's 401 means the gateway's own key for it is wrong: the node
 *   operator's fault, a 502 that counts against the node and moves the request on.
 */
const BREAKER = {
  volume_threshold: 3,
  error_threshold_percentage: 50,
  window_ms: 10_000,
  reset_timeout_ms: 5000,
};
const TIGHT = {
  routing: { strategy: "round-robin" as const, affinity: false },
  resilience: { response_timeout_ms: 400, breaker: BREAKER, retry_budget_min_per_second: 100 },
};
const hello = { model: "tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 4 };
const image = {
  model: "tiny",
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "What is in this picture?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      ],
    },
  ],
};

let fleet: TestFleet | undefined;
let gateway: RunningGateway | undefined;
let sims: SimNode[] = [];
afterEach(async () => {
  await fleet?.close();
  await gateway?.close();
  await Promise.all(sims.map((sim) => sim.close()));
  fleet = gateway = undefined;
  sims = [];
});

const chat = (baseURL: string, body: unknown) => postJson(`${baseURL}/chat/completions`, body);
const breakers = async (url: string) => (await adminNodes(url)).map((node) => node.breaker);
const errorCode = async (response: Response) =>
  ((await response.json()) as { error: { code: string } }).error.code;

describe("one client cannot open every breaker", () => {
  it("long answers asked for are waited for: no timeout, no breaker opened, innocents served", async () => {
    fleet = await startFleet([{ tokensPerSecond: 100 }, { tokensPerSecond: 100 }], { config: TIGHT });
    // About 1.2 s of decoding each, three times response_timeout_ms.
    const long = { ...hello, max_tokens: 120, ignore_eos: true };
    const statuses = await Promise.all(
      Array.from({ length: 6 }, async () => (await chat(fleet!.baseURL, long)).status),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await breakers(fleet.gateway.url)).toEqual(["closed", "closed"]);
    expect((await chat(fleet.baseURL, hello)).status).toBe(200);
  });

  it.each([false, true])(
    "an image for a text-only model (stream: %s): a 400, tried once, no breaker opened",
    async (stream) => {
      fleet = await startFleet([{}, {}], { config: TIGHT });
      for (let i = 0; i < 5; i++) {
        const response = await chat(fleet.baseURL, { ...image, stream });
        expect(response.status).toBe(400);
        expect(await errorCode(response)).toBe("upstream_not_supported");
      }
      const tried = fleet.sims.reduce((sum, sim) => sum + sim.stats().completionRequests, 0);
      expect(tried).toBe(5);
      expect(await breakers(fleet.gateway.url)).toEqual(["closed", "closed"]);
      expect((await chat(fleet.baseURL, hello)).status).toBe(200);
    },
  );

  it("a node's 501 (embeddings not enabled) is the client's final 400, not the node's fault", async () => {
    fleet = await startFleet([{ embeddings: false }, { embeddings: false }], { config: TIGHT });
    for (let i = 0; i < 5; i++) {
      const response = await postJson(`${fleet.baseURL}/embeddings`, { model: "tiny", input: "hello" });
      expect(response.status).toBe(400);
      expect(await errorCode(response)).toBe("upstream_not_supported");
    }
    expect(await breakers(fleet.gateway.url)).toEqual(["closed", "closed"]);
  });

  it("a node refusing the gateway's key is the operator's fault: 502 upstream_auth_failed, failover, breaker", async () => {
    sims = await Promise.all([startSimNode({ apiKey: "node-key-0123456789" }), startSimNode({})]);
    gateway = await gatewayOn([sims[0]!.url], TIGHT);
    const alone = await chat(`${gateway.url}/v1`, hello);
    expect(alone.status).toBe(502);
    expect(await errorCode(alone)).toBe("upstream_auth_failed");
    await gateway.close();
    gateway = await gatewayOn(
      sims.map((sim) => sim.url),
      TIGHT,
    );
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await chat(`${gateway.url}/v1`, hello)).status);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect((await breakers(gateway.url))[0]).toBe("open");
  });
});
