/**
 * Cost of one `latency` routing decision with prefix affinity, by fleet size. Two cases:
 *  - reused: many decisions on one snapshot, as when the registry publishes a snapshot per change and
 *    requests in between share it (eligibility and fleet statistics are memoised per snapshot);
 *  - fresh: every decision on a snapshot never seen before (the first request after a change), which
 *    pays the O(n) passes.
 * Run: npx tsx bench/routing-decision.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import {
  createRandom,
  createRoutingPolicy,
  type FleetSnapshot,
  type NodeView,
  prefixKeyForChat,
  type RequestFeatures,
} from "../src/routing/index.js";

const SIZES = [10, 100, 1_000, 10_000];
const REPEATS = 5;
const TARGET_US: Readonly<Record<number, number>> = { 100: 5, 10000: 50 };
const REGIONS: readonly (readonly [string, number, number])[] = [
  ["fra", 50.04, 8.56],
  ["iad", 38.94, -77.46],
  ["sin", 1.36, 103.99],
  ["syd", -33.95, 151.18],
];

function buildFleet(size: number, seed: number): NodeView[] {
  const random = createRandom(seed);
  return Array.from({ length: size }, (_, i) => {
    const [region, lat, lon] = REGIONS[i % REGIONS.length]!;
    const measured = random() > 0.05;
    const slotsTotal = 1 + Math.floor(random() * 8);
    return {
      id: `node-${region}-${i.toString().padStart(5, "0")}`,
      models: ["llama-3.1-8b-instruct"],
      region,
      location: { lat, lon },
      inFlight: Math.floor(random() * (slotsTotal + 2)),
      slotsTotal,
      slotsBusy: 0,
      deferred: random() > 0.9 ? 1 : 0,
      ttftMs: measured ? 100 + random() * 400 : undefined,
      interTokenMs: measured ? 10 + random() * 40 : undefined,
      prefillTokensPerSec: measured ? 500 + random() * 4000 : undefined,
      rttMs: measured ? 2 + random() * 200 : undefined,
      errorRate: random() > 0.97 ? random() * 0.3 : 0,
      // Another gateway's load seen by a probe up to a second before the decision.
      foreignLoad: random() > 0.5 ? Math.floor(random() * 3) : 0,
      probedAt: -random() * 1000,
      serviceMs: measured ? 300 + random() * 3000 : undefined,
      evictionRisk: random() > 0.5 ? random() : 0,
    };
  });
}

/** Half first turns (rendezvous on the prefix key), half follow-ups with a remembered node. */
function buildRequests(fleet: readonly NodeView[], count: number, seed: number): RequestFeatures[] {
  const random = createRandom(seed);
  // The JSON round trip gives the model name a fresh string, as a parsed request body would.
  const model = JSON.parse('"llama-3.1-8b-instruct"') as string;
  return Array.from({ length: count }, (_, i) => {
    const conversation = Math.floor(random() * 10_000);
    const prefixKey = prefixKeyForChat([
      { role: "system", content: `You are assistant #${conversation % 50}.` },
      { role: "user", content: `Question ${conversation}` },
    ]);
    const remembered = i % 2 === 1 ? fleet[Math.floor(random() * fleet.length)]?.id : undefined;
    return {
      model,
      promptTokens: 200 + Math.floor(random() * 4000),
      maxTokens: 64 + Math.floor(random() * 512),
      stream: random() > 0.2,
      prefixKey,
      rememberedNode: remembered,
      rememberedConversation: remembered !== undefined && random() > 0.3,
      expectedCachedTokens: remembered === undefined ? 0 : Math.floor(random() * 2000),
      origin: { lat: 48.86, lon: 2.35 },
      allowedRegions: undefined,
    };
  });
}

interface Row {
  readonly nodes: number;
  readonly mode: "reused" | "fresh";
  readonly iterations: number;
  readonly medianUs: number;
  readonly minUs: number;
  readonly maxUs: number;
}

let sink = 0;

function measure(size: number, mode: Row["mode"]): Row {
  const nodes = buildFleet(size, size);
  const requests = buildRequests(nodes, 1024, size + 1);
  const policy = createRoutingPolicy("latency", { random: createRandom(1) });
  const iterations = mode === "reused" ? 20_000 : Math.max(50, Math.min(5_000, Math.floor(2_000_000 / size)));
  const shared: FleetSnapshot = { nodes, now: 0 };
  // Fresh arrays are made before timing: copying the fleet is the registry's cost, not routing's.
  const snapshots = (count: number): FleetSnapshot[] =>
    mode === "reused"
      ? Array.from({ length: count }, () => shared)
      : Array.from({ length: count }, (_, i) => ({ nodes: nodes.slice(), now: i }));
  const run = (batch: readonly FleetSnapshot[]): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch.length; i++) {
      sink += policy.rank(batch[i]!, requests[i & 1023]!).ranked.length;
    }
    return Number(process.hrtime.bigint() - start) / 1000 / batch.length;
  };
  run(snapshots(Math.min(iterations, 2_000))); // warm-up: let the JIT settle
  const samples = Array.from({ length: REPEATS }, () => run(snapshots(iterations))).sort((a, b) => a - b);
  return {
    nodes: size,
    mode,
    iterations,
    medianUs: samples[Math.floor(REPEATS / 2)]!,
    minUs: samples[0]!,
    maxUs: samples.at(-1)!,
  };
}

const rows = SIZES.flatMap((size) => [measure(size, "reused"), measure(size, "fresh")]);

const fmt = (us: number): string => us.toFixed(2).padStart(9);
console.log("latency decision with affinity, µs per decision (median of 5 runs, min..max)");
console.log("   nodes  snapshot    median       min       max  target");
for (const row of rows) {
  const target = row.mode === "reused" ? TARGET_US[row.nodes] : undefined;
  const verdict = target === undefined ? "" : `${row.medianUs <= target ? "ok" : "MISSED"} ≤${target}`;
  console.log(
    `${String(row.nodes).padStart(8)}  ${row.mode.padEnd(8)}${fmt(row.medianUs)} ${fmt(row.minUs)} ${fmt(row.maxUs)}  ${verdict}`,
  );
}

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/routing-decision.json", import.meta.url),
  `${JSON.stringify(
    {
      benchmark: "routing-decision",
      policy: "latency",
      unit: "µs per decision",
      repeats: REPEATS,
      node: process.version,
      cpu: cpus()[0]?.model,
      measuredAt: new Date().toISOString(),
      rows,
    },
    null,
    2,
  )}\n`,
);
if (sink < 0) console.log(sink);
