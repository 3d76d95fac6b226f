/** Turns the recorded repetitions into the printed table, the JSON results and the README table. */
import type { Metric, Recorded, TargetName } from "./phases.js";
import { type Spread, spread } from "./stats.js";

interface Goal {
  readonly op: "≤" | "≥" | "<";
  readonly value: number;
}

interface RowSpec {
  readonly label: string;
  readonly metric: Metric;
  /** Shown as the proxy's value minus the direct value of the same repetition. */
  readonly added?: boolean;
  readonly digits: number;
  /** fleetgate's target from the issue. */
  readonly goal?: Goal;
}

export interface Row {
  readonly label: string;
  readonly values: Partial<Record<TargetName, Spread>>;
  readonly goal: string | undefined;
  /** Whether fleetgate's median meets the goal; undefined without a goal or a value. */
  readonly met: boolean | undefined;
  readonly digits: number;
}

export interface RunInfo {
  readonly command: string;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly pinning: boolean;
  readonly nginx: string;
  readonly openFilesLimit: number;
  readonly reps: number;
  readonly holdStreams: number;
  readonly notes: readonly string[];
}

export const TARGETS: readonly TargetName[] = [
  "direct",
  "fleetgate",
  "fleetgate+auth",
  "fleetgate+redis",
  "fleetgate+quotas",
  "fleetgate+telemetry",
  "nginx",
];

function rowSpecs(holdStreams: number): RowSpec[] {
  return [
    {
      label: "added latency p50, c=1 (ms)",
      metric: "c1.p50Ms",
      added: true,
      digits: 3,
      goal: { op: "≤", value: 0.25 },
    },
    {
      label: "added latency p99, c=1 (ms)",
      metric: "c1.p99Ms",
      added: true,
      digits: 3,
      goal: { op: "≤", value: 0.5 },
    },
    { label: "latency p50, c=1 (ms)", metric: "c1.p50Ms", digits: 3 },
    { label: "latency p99, c=1 (ms)", metric: "c1.p99Ms", digits: 3 },
    { label: "CPU-µs per request, c=32", metric: "sat.cpuUsPerReq", digits: 1, goal: { op: "≤", value: 80 } },
    { label: "CPU-µs per request, c=1", metric: "c1.cpuUsPerReq", digits: 1 },
    { label: "CPU-µs per request, c=32, loaded in pairs", metric: "paired.cpuUsPerReq", digits: 1 },
    { label: "closed-loop rps, c=32", metric: "sat.rps", digits: 0 },
    {
      label: "highest rate with p99 < 10 ms (rps)",
      metric: "rate.maxRps",
      digits: 0,
      goal: { op: "≥", value: 10_000 },
    },
    {
      label: "relayed chunks/s, 100 streams",
      metric: "stream.chunksPerSec",
      digits: 0,
      goal: { op: "≥", value: 30_000 },
    },
    { label: "CPU-µs per relayed chunk", metric: "stream.cpuUsPerChunk", digits: 2 },
    { label: "added TTFT p50, 100 streams (ms)", metric: "stream.ttftP50Ms", added: true, digits: 2 },
    { label: "added TTFT p99, 100 streams (ms)", metric: "stream.ttftP99Ms", added: true, digits: 2 },
    { label: `streams held open (of ${holdStreams})`, metric: "hold.opened", digits: 0 },
    { label: "RSS before opening them (MB)", metric: "hold.rssIdleMB", digits: 0 },
    {
      label: `RSS with ${holdStreams} open streams (MB)`,
      metric: "hold.rssMB",
      digits: 0,
      goal: { op: "<", value: 1024 },
    },
    { label: "RSS added by the open streams (MB)", metric: "hold.rssAddedMB", digits: 0 },
  ];
}

/** Issue 13's bound: telemetry on may cost at most this much more CPU per request than off. */
const TELEMETRY_BUDGET_PERCENT = 10;

/** What telemetry costs: CPU per request and per relayed chunk, on against off. */
export function telemetryNote(recorded: Recorded, traceRatio: number | undefined): string | undefined {
  const compare = (metric: Metric, what: string) => {
    const offRuns = recorded.fleetgate?.[metric];
    const onRuns = recorded["fleetgate+telemetry"]?.[metric];
    if (!offRuns || !onRuns) return undefined;
    const off = spread(offRuns).median;
    const on = spread(onRuns).median;
    // Repetition by repetition: each pair of runs shared the machine's state of the moment.
    const added = (spread(onRuns.map((value, rep) => value / (offRuns[rep] ?? Number.NaN))).median - 1) * 100;
    return {
      text: `${on.toFixed(2)} against ${off.toFixed(2)} CPU-µs ${what} (${added >= 0 ? "+" : ""}${added.toFixed(1)}%)`,
      added,
    };
  };
  const requests = compare("paired.cpuUsPerReq", "per request at c=32, both loaded at once");
  if (!requests) return undefined;
  const chunks = compare("stream.cpuUsPerChunk", "per relayed chunk");
  const verdict = requests.added <= TELEMETRY_BUDGET_PERCENT ? "met" : "MISSED";
  return (
    `Telemetry on (fleetgate+telemetry: metrics recorded, the access log written${
      traceRatio === undefined
        ? ", no OTLP endpoint"
        : `, metrics and the spans of ${traceRatio * 100}% of calls exported over OTLP/HTTP`
    }) ` +
    `against off (fleetgate): ${requests.text}${chunks ? `, ${chunks.text}` : ""}; ` +
    `at most +${TELEMETRY_BUDGET_PERCENT}% per request: ${verdict}.`
  );
}

function addedRuns(recorded: Recorded, target: TargetName, metric: Metric): number[] | undefined {
  const own = recorded[target]?.[metric];
  const direct = recorded.direct?.[metric];
  if (!own || !direct) return undefined;
  return own.map((value, rep) => value - (direct[rep] ?? Number.NaN));
}

function meets(goal: Goal, value: number): boolean {
  if (goal.op === "≤") return value <= goal.value;
  if (goal.op === "≥") return value >= goal.value;
  return value < goal.value;
}

export function buildRows(recorded: Recorded, holdStreams: number): Row[] {
  return rowSpecs(holdStreams).map((spec) => {
    const values: Partial<Record<TargetName, Spread>> = {};
    for (const target of TARGETS) {
      if (spec.added && target === "direct") continue;
      const runs = spec.added ? addedRuns(recorded, target, spec.metric) : recorded[target]?.[spec.metric];
      const summary = runs ? spread(runs) : undefined;
      if (summary && Number.isFinite(summary.median)) values[target] = summary;
    }
    const ours = values.fleetgate?.median;
    return {
      label: spec.label,
      values,
      goal: spec.goal ? `${spec.goal.op} ${spec.goal.value}` : undefined,
      met: spec.goal && ours !== undefined ? meets(spec.goal, ours) : undefined,
      digits: spec.digits,
    };
  });
}

function cell(value: Spread | undefined, digits: number): string {
  if (!value) return "—";
  const f = (n: number) => n.toFixed(digits);
  return value.runs.length > 1 ? `${f(value.median)} [${f(value.min)}–${f(value.max)}]` : f(value.median);
}

function verdict(row: Row): string {
  if (row.goal === undefined) return "";
  if (row.met === undefined) return `${row.goal} (not measured)`;
  return `${row.goal} ${row.met ? "met" : "MISSED"}`;
}

export function printTable(rows: readonly Row[], info: RunInfo): void {
  const widths = [40, ...TARGETS.map(() => 22), 22];
  const line = (cells: readonly string[]) =>
    console.log(cells.map((text, i) => text.padEnd(widths[i] ?? 0)).join(" "));
  console.log(`\nmedian [min–max] over ${info.reps} repetitions; nginx: ${info.nginx}`);
  line(["figure", ...TARGETS, "fleetgate target"]);
  for (const row of rows)
    line([row.label, ...TARGETS.map((t) => cell(row.values[t], row.digits)), verdict(row)]);
  for (const note of info.notes) console.log(`note: ${note}`);
}

export function markdown(rows: readonly Row[], info: RunInfo, measuredAt: string): string {
  const lines = [
    "### Proxy overhead",
    "",
    `\`${info.command}\` — median [min–max] over ${info.reps} repetitions, measured ${measuredAt.slice(0, 10)}.`,
    `Machine: ${info.cores} cores (${info.cpu}), Node ${info.node}, ` +
      (info.pinning
        ? "gateway (or nginx) pinned to core 0, load generator and upstream to core 1 with taskset."
        : "no pinning (taskset or a second core missing)."),
    `Upstream: a minimal llama-server stand-in (its own process) that answers at once. nginx: ${info.nginx}.`,
    "",
    `| figure | ${TARGETS.join(" | ")} | fleetgate target |`,
    `| --- | ${TARGETS.map(() => "---").join(" | ")} | --- |`,
    ...rows.map(
      (row) =>
        `| ${row.label} | ${TARGETS.map((t) => cell(row.values[t], row.digits)).join(" | ")} | ${verdict(row)} |`,
    ),
    "",
    ...info.notes.map((note) => `- ${note}`),
    "",
  ];
  return lines.join("\n");
}
