import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { nodeView, until } from "../faults/support/admin.js";
import { postJson } from "../support/fleet.js";
import { gatewayOn } from "./support/node-harness.js";

/**
 * Issue 15, finding 4: wrong codes when nodes are down. An open breaker on every node serving the
 * model became 404 `model_not_found` (which SDKs do not retry), and so did a model whose only node
 * could not be reached. Now: 503 with Retry-After whenever configured nodes exist that serve the
 * model or might (a node never reached has told us nothing), and 404 only for a model no node
 * serves or might.
 */
const TIGHT = {
  resilience: {
    max_attempts: 1,
    breaker: {
      volume_threshold: 3,
      error_threshold_percentage: 50,
      window_ms: 10_000,
      reset_timeout_ms: 10_000,
    },
  },
};

let gateway: RunningGateway | undefined;
let sims: SimNode[] = [];
afterEach(async () => {
  await gateway?.close();
  await Promise.all(sims.map((sim) => sim.close()));
  gateway = undefined;
  sims = [];
});

const ask = (model: string) =>
  postJson(`${gateway!.url}/v1/chat/completions`, {
    model,
    messages: [{ role: "user", content: "Hi" }],
    max_tokens: 2,
  });

async function refusal(response: Response) {
  const body = (await response.json()) as { error: { code: string } };
  return { status: response.status, code: body.error.code, retryAfter: response.headers.get("retry-after") };
}

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("no node can serve now: 503 with Retry-After, not 404", () => {
  it("every node serving the model has its breaker open: 503 nodes_failing", async () => {
    sims = await Promise.all([startSimNode({ faults: { errorRate: 1 } }), startSimNode({ model: "other" })]);
    gateway = await gatewayOn(
      sims.map((sim) => sim.url),
      TIGHT,
    );
    for (let i = 0; i < 3; i++) expect((await ask("tiny")).status).toBe(502);
    expect(await until(async () => (await nodeView(gateway!.url, "node-0"))?.breaker === "open", 2000)).toBe(
      true,
    );
    expect(await refusal(await ask("tiny"))).toEqual({ status: 503, code: "nodes_failing", retryAfter: "5" });
    // The other model's node is untouched.
    expect((await ask("other")).status).toBe(200);
  });

  it("the model's only node cannot be reached (its models unknown): 503 no_healthy_node", async () => {
    sims = [await startSimNode({})];
    gateway = await gatewayOn([sims[0]!.url, `http://127.0.0.1:${await deadPort()}`]);
    expect(await refusal(await ask("big"))).toEqual({
      status: 503,
      code: "no_healthy_node",
      retryAfter: "2",
    });
    expect((await ask("tiny")).status).toBe(200);
  });

  it("a model no node serves, with every node's models known: still 404 model_not_found", async () => {
    sims = [await startSimNode({}), await startSimNode({ model: "other" })];
    gateway = await gatewayOn(sims.map((sim) => sim.url));
    expect(await refusal(await ask("nobody-serves-this"))).toEqual({
      status: 404,
      code: "model_not_found",
      retryAfter: null,
    });
  });

  it("a known model whose nodes are all down: 503 no_healthy_node", async () => {
    sims = [await startSimNode({})];
    gateway = await gatewayOn([sims[0]!.url]);
    sims[0]!.kill();
    expect(
      await until(async () => (await nodeView(gateway!.url, "node-0"))?.state === "unhealthy", 3000),
    ).toBe(true);
    expect(await refusal(await ask("tiny"))).toEqual({
      status: 503,
      code: "no_healthy_node",
      retryAfter: "2",
    });
    sims = [];
  });
});
