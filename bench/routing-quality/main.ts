/**
 * Routing quality: every routing policy on the same seeded workloads through a real gateway, measured
 * from the client: workloads in workloads.ts, the fleet in fleet-spec.ts, metrics in metrics.ts.
 * Run: npm run bench:routing [-- --repeats N --seed N --policies a,b --workloads a,b,c --llama
 *   --records FILE (every measured request as a line of JSON)]
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { ROUTING_STRATEGIES, type RoutingStrategy } from "../../src/routing/index.js";
import { MODEL, startSimFleet } from "./fleet.js";
import { FLEET, GATEWAY_REGION, rttMsOf, SLOW_NODE_ID } from "./fleet-spec.js";
import { LLAMA_FLEET_SLOTS, LLAMA_SCALE, startLlamaBench } from "./llama.js";
import { type MatrixOptions, runMatrix } from "./matrix.js";
import { consoleReport, markdownReport } from "./report.js";
import { ttftChart } from "./svg.js";
import { checksFor, evaluateTargets } from "./targets.js";
import { SIM_SCALE, SLOWDOWN_MS, WARMUP_MS, type WorkloadId } from "./workloads.js";

const { values: args } = parseArgs({
  options: {
    llama: { type: "boolean", default: false },
    repeats: { type: "string", default: "2" },
    seed: { type: "string", default: "7" },
    policies: { type: "string", default: ROUTING_STRATEGIES.join(",") },
    workloads: { type: "string" },
    records: { type: "string" },
  },
});

function listOf<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value.split(",").map((s) => s.trim());
  const bad = items.find((item) => !allowed.includes(item as T));
  if (bad !== undefined) throw new Error(`unknown ${what} '${bad}' (one of ${allowed.join(", ")})`);
  return items as T[];
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const repeats = Math.max(1, Number.parseInt(args.repeats, 10) || 1);
const seed = Number.parseInt(args.seed, 10) || 0;
const policies = listOf<RoutingStrategy>(args.policies, ROUTING_STRATEGIES, "policy");
const workloads = listOf<WorkloadId>(
  args.workloads ?? (args.llama ? "b" : "a,b,c"),
  ["a", "b", "c"],
  "workload",
);
if (args.llama && workloads.some((w) => w !== "b")) throw new Error("--llama runs workload (b) only");

const llama = args.llama ? await startLlamaBench(log).catch(fail) : undefined;
const recordsFile = args.records;
if (recordsFile !== undefined) writeFileSync(recordsFile, "");
const base: Omit<MatrixOptions, "scale" | "model" | "startFleet"> = {
  policies,
  workloads,
  repeats,
  seed,
  log,
  onRecords:
    recordsFile === undefined
      ? undefined
      : (run, records) =>
          appendFileSync(
            recordsFile,
            records.map(({ text: _, ...r }) => `${JSON.stringify({ ...run, ...r })}\n`).join(""),
          ),
};
const started = performance.now();
let results: Awaited<ReturnType<typeof runMatrix>>;
try {
  results = await runMatrix(
    llama
      ? {
          ...base,
          scale: LLAMA_SCALE,
          model: llama.model,
          startFleet: llama.startFleet,
        }
      : { ...base, scale: SIM_SCALE, model: MODEL, startFleet: startSimFleet },
  );
} finally {
  await llama?.stop();
}
const scale = llama ? LLAMA_SCALE : SIM_SCALE;
const targets = evaluateTargets(results, checksFor(llama ? LLAMA_FLEET_SLOTS : undefined));
console.log(consoleReport(results, targets, scale.ttftTimeoutMs));
log(`\n${((performance.now() - started) / 1000).toFixed(0)} s`);

const fleetDescription = llama
  ? "3 real llama-servers (bench-size random model, 4 slots, 1 thread each) on loopback"
  : `${FLEET.length} simulated llama-servers (${FLEET.map((n) => `${n.id}: ${n.slots} slots, ${n.tokensPerSecond} tok/s, ` + `prefill ${n.prefillTokensPerSecond} tok/s, rtt ${rttMsOf(n)} ms`).join("; ")}) behind a gateway in ${GATEWAY_REGION}`;
const command = `npm run bench:routing${llama ? " -- --llama" : ""}`;
const name = llama ? "routing-llama" : "routing";
const dir = new URL("../results/", import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(
  new URL(`${name}.json`, dir),
  `${JSON.stringify(
    {
      benchmark: "routing-quality",
      mode: llama ? "llama" : "sim",
      command,
      seed,
      repeats,
      ttftTimeoutMs: scale.ttftTimeoutMs,
      warmupMs: WARMUP_MS,
      slowdown: llama ? undefined : { node: SLOW_NODE_ID, addedMs: SLOWDOWN_MS },
      scale,
      fleet: llama ? fleetDescription : FLEET.map((n) => ({ ...n, rttMs: rttMsOf(n) })),
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      measuredAt: new Date().toISOString(),
      results,
      targets,
    },
    null,
    2,
  )}\n`,
);
writeFileSync(
  new URL(`${name}.md`, dir),
  markdownReport(results, targets, {
    command,
    repeats,
    fleetDescription,
    ttftTimeoutMs: scale.ttftTimeoutMs,
  }),
);
writeFileSync(
  new URL(`${name}.svg`, dir),
  ttftChart(results, `p95 time to first token by policy${llama ? " (real llama-servers)" : ""}`),
);

function fail(err: unknown): never {
  log(`bench:routing: ${(err as Error).message}`);
  process.exit(1);
}
