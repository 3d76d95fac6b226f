import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { eventually, postJson } from "../support/fleet.js";
import { fleetCall, type NodeReportView, onEveryReplica, startOpenGateway } from "../support/open-fleet.js";
import { clearRedisPrefix, testRedisUrl } from "../support/redis.js";

const REDIS_URL = testRedisUrl();
const TTL_MS = 1500;
const SYNC_MS = 1000;
/**
 * Two sync periods see a join or a leave on a quiet machine; a loaded one adds up to a couple of
 * seconds of scheduling. A replica that stopped syncing, or synced at a tenth of the pace, never gets there.
 */
const SEEN_WITHIN_MS = 2 * SYNC_MS + 2000;

describe("registered nodes shared by two replicas on Redis", () => {
  const prefix = `fleetgate-test-${randomUUID()}:`;
  let sims: SimNode[] = [];
  let replicas: RunningGateway[] = [];

  beforeAll(async () => {
    sims = await Promise.all([startSimNode({ model: "tiny" }), startSimNode({ model: "tiny" })]);
    const start = () =>
      startOpenGateway({
        store: { redis_url: REDIS_URL, key_prefix: prefix },
        // The default sync period: what "a join is seen within 2 s" is measured with.
        fleet: { sync_interval_ms: SYNC_MS, heartbeat_interval_ms: 500, heartbeat_ttl_ms: TTL_MS },
      });
    replicas = await Promise.all([start(), start()]);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await Promise.all(sims.map((sim) => sim.close()));
    await clearRedisPrefix(REDIS_URL, prefix);
  });

  const onBoth = (id: string, check: (node: NodeReportView | undefined) => boolean, timeoutMs: number) =>
    onEveryReplica(replicas, id, check, timeoutMs);

  it("a join through one replica is seen by both within two sync periods, and traffic flows through the other", async () => {
    const [a, b] = replicas as [RunningGateway, RunningGateway];
    const joined = performance.now();
    const response = await fleetCall(a.url, "POST", "/fleet/nodes", { id: "shared", url: sims[0]!.url });
    expect(response.status).toBe(201);
    // Heartbeats from registration on, as an agent sends them, through the other replica.
    const heartbeat = setInterval(
      // A heartbeat still in flight when the test ends may fail; only what the test awaits counts.
      () => void fleetCall(b.url, "PUT", "/fleet/nodes/shared/heartbeat", {}).catch(() => undefined),
      300,
    );
    try {
      expect(await onBoth("shared", (node) => node !== undefined, SEEN_WITHIN_MS)).toBe(true);
      expect(performance.now() - joined).toBeLessThan(SEEN_WITHIN_MS);
      expect(await onBoth("shared", (node) => node?.admission === "verified", 5000)).toBe(true);
      const completion = await postJson(`${b.url}/v1/chat/completions`, {
        model: "tiny",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 2,
      });
      expect(completion.status).toBe(200);
      expect(completion.headers.get("x-fleetgate-node")).toBe("shared");

      const drained = await fleetCall(b.url, "POST", "/fleet/nodes/shared/drain");
      expect(drained.status).toBe(200);
      expect(await onBoth("shared", (node) => node?.draining === true, SEEN_WITHIN_MS)).toBe(true);

      const left = performance.now();
      expect((await fleetCall(b.url, "DELETE", "/fleet/nodes/shared")).status).toBe(200);
      expect(await onBoth("shared", (node) => node === undefined, SEEN_WITHIN_MS)).toBe(true);
      expect(performance.now() - left).toBeLessThan(SEEN_WITHIN_MS);
    } finally {
      clearInterval(heartbeat);
    }
  });

  it("a node whose heartbeats stop is removed from both after the TTL", async () => {
    const [a] = replicas as [RunningGateway];
    const registered = performance.now();
    expect((await fleetCall(a.url, "POST", "/fleet/nodes", { id: "silent", url: sims[1]!.url })).status).toBe(
      201,
    );
    expect(await onBoth("silent", (node) => node !== undefined, 2000)).toBe(true);
    expect(await onBoth("silent", (node) => node === undefined, TTL_MS + 2500)).toBe(true);
    expect(performance.now() - registered).toBeGreaterThanOrEqual(TTL_MS);
    const late = await fleetCall(a.url, "PUT", "/fleet/nodes/silent/heartbeat", {});
    expect(late.status).toBe(404);
  });

  it("heartbeats stand in for probes, and a change of the node's /props makes both replicas verify it again", async () => {
    const [a, b] = replicas as [RunningGateway, RunningGateway];
    const sim = sims[1]!;
    expect((await fleetCall(a.url, "POST", "/fleet/nodes", { id: "props", url: sim.url })).status).toBe(201);
    const props = { n_ctx: 4096, total_slots: 4, model_alias: "tiny", model_path: "/models/tiny.gguf" };
    const beat = (body: object) => fleetCall(b.url, "PUT", "/fleet/nodes/props/heartbeat", body);
    let reported = props;
    const beating = setInterval(
      () => void beat({ props: reported, reading: { slots_total: 4, slots_busy: 1 } }).catch(() => undefined),
      300,
    );
    try {
      expect(await onBoth("props", (node) => node?.admission === "verified", 5000)).toBe(true);
      const before = sim.stats().requestsTotal;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // Verified and healthy, with heartbeats: no replica probes it.
      expect(sim.stats().requestsTotal).toBe(before);
      // The node now reports another context size, and keeps heartbeating with it.
      reported = { ...props, n_ctx: 8192 };
      // Two replicas, each verifying again: health, models, props and the canary.
      expect(await eventually(() => sim.stats().requestsTotal >= before + 8, 3000)).toBe(true);
      expect(await onBoth("props", (node) => node?.admission === "verified", 3000)).toBe(true);
    } finally {
      clearInterval(beating);
    }
  });
});
