import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { silentLogger } from "../../src/telemetry/index.js";
import { postJson } from "../support/fleet.js";
import { clearRedisPrefix, testRedisUrl } from "../support/redis.js";

const REDIS_URL = testRedisUrl();
/**
 * About 1,900 tokens, a second of prefill on a sim: worth more than the remembered node's predicted
 * wait, which one stalled request of a loaded machine inflates (with a short prompt the latency
 * policy rightly left for a node it predicted faster, "affinity=slower").
 */
const SYSTEM = { role: "system", content: "You are a careful assistant. ".repeat(200) };

describe("two gateway replicas sharing Redis", () => {
  const prefix = `fleetgate-test-${randomUUID()}:`;
  let sims: SimNode[] = [];
  let replicas: RunningGateway[] = [];

  beforeAll(async () => {
    sims = await Promise.all([0, 1, 2].map(() => startSimNode({ model: "tiny" })));
    const config = buildConfig({
      server: { host: "127.0.0.1", port: 0 },
      health: { interval_ms: 100 },
      store: { redis_url: REDIS_URL, key_prefix: prefix },
      nodes: sims.map((sim, i) => ({ id: `node-${i}`, url: sim.url })),
    });
    replicas = await Promise.all([startGateway(config, silentLogger), startGateway(config, silentLogger)]);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await Promise.all(sims.map((sim) => sim.close()));
    await clearRedisPrefix(REDIS_URL, prefix);
  });

  it("agree on a conversation's node, whichever replica each turn reaches", async () => {
    for (let conversation = 0; conversation < 4; conversation++) {
      const messages: object[] = [
        SYSTEM,
        { role: "user", content: `Conversation ${conversation}: hello there.` },
      ];
      const served: string[] = [];
      for (let turn = 0; turn < 4; turn++) {
        const replica = replicas[turn % 2]!;
        const response = await postJson(`${replica.url}/v1/chat/completions`, {
          model: "tiny",
          messages,
          max_tokens: 3,
        });
        expect(response.status).toBe(200);
        served.push(
          `${response.headers.get("x-fleetgate-node")} (${response.headers.get("x-fleetgate-route")})`,
        );
        const body = (await response.json()) as { choices: { message: object }[] };
        messages.push(body.choices[0]!.message, { role: "user", content: `And turn ${turn}?` });
      }
      const nodes = served.map((line) => line.split(" ")[0]);
      expect(new Set(nodes).size, served.join(", ")).toBe(1);
    }
  });
});
