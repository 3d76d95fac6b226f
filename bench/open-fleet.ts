/**
 * The open fleet at scale: 1,000 registered simulated nodes across 3 gateway replicas sharing one
 * (private) Redis, heartbeating every 5 s as agents do. Reports the store operations per second the
 * heartbeats and the replicas' syncs cost, the time for a join to be seen by the other replicas,
 * gateway memory per registered node, and the routing decision time over the live registry.
 * The nodes have 1,000 distinct origins (127.0.0.x:port on 4 simulated servers bound to 0.0.0.0), so
 * each costs its own pool and entry as a real fleet's would.
 * Run: npx tsx --expose-gc bench/open-fleet.ts   (needs redis-server on PATH)
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { buildConfig } from "../src/config/index.js";
import { type RunningGateway, startGateway } from "../src/main.js";
import {
  createRandom,
  createRoutingPolicy,
  prefixKeyForChat,
  type RequestFeatures,
} from "../src/routing/index.js";
import { type SimNode, startSimNode } from "../src/sim/index.js";
import { RedisStore } from "../src/store/index.js";
import { silentLogger } from "../src/telemetry/index.js";

const NODES = 1000;
const REPLICAS = 3;
const SIMS = 4;
const HEARTBEAT_MS = 5000;
const LOAD_SECONDS = 20;
const JOINS = 10;
const TOKEN = "bench-enrollment-token-0123456789";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

async function startRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const store = new RedisStore({ url, keyPrefix: "probe:" });
    const ok = await store.ping().then(
      () => true,
      () => false,
    );
    await store.close().catch(() => undefined);
    if (ok) {
      // The private Redis must not outlive the benchmark, however it ends.
      const stop = () => child.kill("SIGKILL");
      process.once("exit", stop);
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(1));
      return { url, stop };
    }
    await sleep(50);
  }
  throw new Error("redis-server did not start");
}

function call(base: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function inBatches<T>(items: readonly T[], width: number, work: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}

/** Redis's own command counters: what the heartbeats and syncs cost the store, nothing else. */
async function commandCounts(url: string): Promise<Map<string, number>> {
  const { Redis } = await import("ioredis");
  const client = new Redis(url);
  const info = await client.info("commandstats");
  client.disconnect();
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) counts.set(match[1]!, Number(match[2]));
  return counts;
}

const redis = await startRedis();
const sims: SimNode[] = await Promise.all(
  Array.from({ length: SIMS }, () => startSimNode({ model: "tiny", host: "0.0.0.0", tokensPerSecond: 500 })),
);
const urlOf = (i: number) => `http://127.0.0.${1 + (Math.floor(i / SIMS) % 250)}:${sims[i % SIMS]!.port}`;
const config = buildConfig({
  server: { host: "127.0.0.1", port: 0 },
  access_log: { enabled: false },
  store: { redis_url: redis.url, key_prefix: "bench:" },
  fleet: { enrollment_tokens: [TOKEN], allow_private_urls: true, heartbeat_interval_ms: HEARTBEAT_MS },
});
gc();
const heapBefore = process.memoryUsage().heapUsed;
const replicas: RunningGateway[] = [];
for (let r = 0; r < REPLICAS; r++) replicas.push(await startGateway(config, silentLogger));
gc();
const heapEmpty = process.memoryUsage().heapUsed;

const ids = Array.from({ length: NODES }, (_, i) => `sim-${String(i).padStart(4, "0")}`);
const registerStart = performance.now();
await inBatches(ids, 50, async (id) => {
  const i = ids.indexOf(id);
  const response = await call(replicas[i % REPLICAS]!.url, "POST", "/fleet/nodes", {
    id,
    url: urlOf(i),
    region: "fra",
  });
  if (response.status !== 201) throw new Error(`register ${id}: ${response.status} ${await response.text()}`);
});
const registeredMs = performance.now() - registerStart;
// Heartbeats from registration on, spread evenly over the period, as 1,000 agents would send them.
let beats = 0;
let failedBeats = 0;
let beating = true;
const heartbeats = (async () => {
  const perTick = NODES / (HEARTBEAT_MS / 100);
  let next = 0;
  while (beating) {
    const tick = sleep(100);
    for (let k = 0; k < perTick; k++, next++) {
      const i = next % NODES;
      const body = { reading: { slots_total: 4, slots_busy: next % 5 === 0 ? 1 : 0, deferred: 0 } };
      void call(replicas[i % REPLICAS]!.url, "PUT", `/fleet/nodes/${ids[i]}/heartbeat`, body).then(
        (response) => {
          beats += 1;
          if (response.status !== 200) failedBeats += 1;
        },
        () => {
          failedBeats += 1;
        },
      );
    }
    await tick;
  }
})();
const admitted = (replica: RunningGateway) => replica.registry.all().filter((entry) => entry.admitted).length;
process.stderr.write(`registered ${NODES} in ${Math.round(registeredMs)} ms; verifying\n`);
while (replicas.some((replica) => admitted(replica) < NODES)) {
  await sleep(1000);
  process.stderr.write(`  admitted: ${replicas.map(admitted).join(", ")}\n`);
}
const verifiedMs = performance.now() - registerStart;

await sleep(2000);
const before = await commandCounts(redis.url);
const beatsBefore = beats;
const windowStart = performance.now();
await sleep(LOAD_SECONDS * 1000);
const after = await commandCounts(redis.url);
const beatsInWindow = beats - beatsBefore;
const windowSeconds = (performance.now() - windowStart) / 1000;
const opsPerSecond = Object.fromEntries(
  [...after].map(([command, calls]) => [command, (calls - (before.get(command) ?? 0)) / windowSeconds]),
);

// Joins while the heartbeats run: registered on one replica, timed until the other two list it.
const joinMs: number[] = [];
for (let j = 0; j < JOINS; j++) {
  const id = `joiner-${j}`;
  const [via, ...others] = [replicas[j % REPLICAS]!, ...replicas.filter((_, r) => r !== j % REPLICAS)];
  const started = performance.now();
  await call(via.url, "POST", "/fleet/nodes", { id, url: urlOf(j), region: "fra" });
  while (others.some((replica) => replica.registry.get(id) === undefined)) await sleep(5);
  joinMs.push(performance.now() - started);
}
beating = false;
await heartbeats;
gc();
const heapFull = process.memoryUsage().heapUsed;

// Routing over the live registry of one replica (1,000 nodes), as the route stage calls it.
const policy = createRoutingPolicy("latency", { random: createRandom(1) });
const random = createRandom(7);
const requests: RequestFeatures[] = Array.from({ length: 1024 }, (_, i) => ({
  model: "tiny",
  promptTokens: 200 + Math.floor(random() * 2000),
  maxTokens: 128,
  stream: true,
  prefixKey: prefixKeyForChat([{ role: "user", content: `conversation ${i}` }]),
  rememberedNode: i % 2 === 0 ? ids[Math.floor(random() * NODES)] : undefined,
  origin: { lat: 48.86, lon: 2.35 },
  allowedRegions: undefined,
}));
const registry = replicas[0]!.registry;
let sink = 0;
const rank = (n: number) => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += policy.rank(registry.snapshot(), requests[i & 1023]!).ranked.length;
  return Number(process.hrtime.bigint() - start) / 1000 / n;
};
rank(2000);
const decisionUs = [rank(10_000), rank(10_000), rank(10_000)].sort((a, b) => a - b)[1]!;

const sorted = [...joinMs].sort((a, b) => a - b);
const heartbeatOps = (opsPerSecond.hget ?? 0) + (opsPerSecond.hset ?? 0);
const result = {
  benchmark: "open-fleet",
  nodes: NODES,
  replicas: REPLICAS,
  heartbeatIntervalMs: HEARTBEAT_MS,
  syncIntervalMs: config.fleet.sync_interval_ms,
  registerAllMs: Math.round(registeredMs),
  verifiedOnAllReplicasMs: Math.round(verifiedMs),
  heartbeatsPerSecond: beatsInWindow / windowSeconds,
  failedHeartbeats: failedBeats,
  storeOpsPerSecond: opsPerSecond,
  heartbeatStoreOpsPerSecond: heartbeatOps,
  syncStoreOpsPerSecond: opsPerSecond.hgetall ?? 0,
  joinSeenByOthersMs: { median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) },
  gatewayHeapPerNodeBytes: Math.round((heapFull - heapEmpty) / (REPLICAS * (NODES + JOINS))),
  gatewayHeapBytes: { empty: heapEmpty - heapBefore, full: heapFull - heapBefore },
  routingDecisionUs: decisionUs,
  node: process.version,
  cpu: cpus()[0]?.model,
  measuredAt: new Date().toISOString(),
};

console.log(`open fleet: ${NODES} registered nodes, ${REPLICAS} replicas, one Redis`);
console.log(
  `  register all ${NODES}                 ${result.registerAllMs} ms (verified on every replica after ${result.verifiedOnAllReplicasMs} ms)`,
);
console.log(
  `  heartbeats                        ${result.heartbeatsPerSecond.toFixed(0)}/s (${failedBeats} failed)`,
);
console.log(
  `  store ops/s from heartbeats       ${heartbeatOps.toFixed(0)} (hget + hset, ${(heartbeatOps / result.heartbeatsPerSecond).toFixed(2)} per heartbeat)`,
);
console.log(
  `  store ops/s from syncs            ${result.syncStoreOpsPerSecond.toFixed(1)} (hgetall, one per replica per sync)`,
);
console.log(
  `  all store ops/s                   ${Object.values(opsPerSecond)
    .reduce((a, b) => a + b, 0)
    .toFixed(0)}`,
);
console.log(
  `  join seen by the other replicas   median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`,
);
console.log(`  gateway heap per registered node  ${result.gatewayHeapPerNodeBytes} bytes (per replica)`);
console.log(`  routing decision, 1,000 nodes     ${decisionUs.toFixed(1)} µs`);

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/open-fleet.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
await Promise.all(replicas.map((replica) => replica.close()));
await Promise.all(sims.map((sim) => sim.close()));
redis.stop();
if (sink < 0) console.log(sink);
process.exit(0);
