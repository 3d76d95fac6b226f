import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { silentLogger } from "../../src/telemetry/index.js";
import { adminFetch, postJson, startFleet, TEST_ADMIN_TOKEN } from "../support/fleet.js";
import { parseScrape, select } from "../support/prometheus.js";
import { clearRedisPrefix, testRedisUrl } from "../support/redis.js";

const REDIS_URL = testRedisUrl();

const question = (label: string) => ({
  model: "tiny",
  messages: [{ role: "user", content: `replicated cache ${label} ${randomUUID()}` }],
  temperature: 0,
  max_tokens: 24,
});

describe("the prompt cache across two replicas sharing Redis", () => {
  const prefix = `fleetgate-test-${randomUUID()}:`;
  let sim: SimNode;
  let replicas: RunningGateway[] = [];

  beforeAll(async () => {
    // Slow enough that all ten requests arrive while the first is still being answered.
    sim = await startSimNode({ model: "tiny", tokensPerSecond: 60 });
    const config = buildConfig({
      server: { host: "127.0.0.1", port: 0 },
      health: { interval_ms: 100 },
      store: { redis_url: REDIS_URL, key_prefix: prefix },
      admin: { token: TEST_ADMIN_TOKEN },
      nodes: [{ id: "node-0", url: sim.url }],
    });
    replicas = await Promise.all([startGateway(config, silentLogger), startGateway(config, silentLogger)]);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await sim.close();
    await clearRedisPrefix(REDIS_URL, prefix);
  });

  it("send ten concurrent identical requests to the node once, and give every client the same answer", async () => {
    const body = question("flight");
    const before = sim.stats().completionRequests;
    const answers = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const response = await postJson(`${replicas[i % 2]!.url}/v1/chat/completions`, body);
        expect(response.status).toBe(200);
        const json = (await response.json()) as { choices: { message: { content: string } }[] };
        return { cache: response.headers.get("x-fleetgate-cache"), text: json.choices[0]!.message.content };
      }),
    );
    expect(sim.stats().completionRequests - before).toBe(1);
    expect(answers.map((answer) => answer.cache).sort()).toEqual([...Array(9).fill("hit"), "miss"]);
    expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
  });

  it("serve on one replica what the other stored", async () => {
    const body = question("shared");
    const first = await postJson(`${replicas[0]!.url}/v1/chat/completions`, body);
    expect(first.headers.get("x-fleetgate-cache")).toBe("miss");
    await first.arrayBuffer();
    const before = sim.stats().completionRequests;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await postJson(`${replicas[1]!.url}/v1/chat/completions`, { ...body, stream: true });
    expect(second.headers.get("x-fleetgate-cache")).toBe("hit");
    expect(await second.text()).toContain("data: [DONE]");
    expect(sim.stats().completionRequests).toBe(before);
  });
});

describe("the prompt cache when Redis is down", () => {
  it("answers from memory only, and counts the fallbacks", async () => {
    const fleet = await startFleet([{}], {
      // Nothing listens on port 1: every store operation fails.
      config: { store: { redis_url: "redis://127.0.0.1:1", key_prefix: `down-${randomUUID()}:` } },
    });
    try {
      const body = question("down");
      const first = await postJson(`${fleet.baseURL}/chat/completions`, body);
      expect(first.status).toBe(200);
      expect(first.headers.get("x-fleetgate-cache")).toBe("miss");
      await first.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = fleet.sims[0]!.stats().completionRequests;
      const second = await postJson(`${fleet.baseURL}/chat/completions`, body);
      expect(second.headers.get("x-fleetgate-cache")).toBe("hit");
      await second.arrayBuffer();
      expect(fleet.sims[0]!.stats().completionRequests).toBe(before);
      const scrape = parseScrape(await (await adminFetch(fleet.gateway.url, "/metrics")).text());
      const fallbacks = select(scrape, "fleetgate_cache_store_fallbacks_total");
      expect(fallbacks[0]?.value ?? 0).toBeGreaterThan(0);
      const hits = select(scrape, "fleetgate_cache_lookups_total", { result: "hit" });
      expect(hits[0]?.value).toBe(1);
    } finally {
      await fleet.close();
    }
  });
});
