import type { CellResult } from "./matrix.js";
import type { CellMetrics } from "./metrics.js";
import type { TargetResult } from "./targets.js";
import { WORKLOAD_NAMES } from "./workloads.js";

const HEADERS = [
  "workload",
  "policy",
  "TTFT p50",
  "TTFT p95",
  "TTFT p99",
  "TTFT mean",
  "e2e p50",
  "e2e p99",
  "req/s",
  "in flight",
  "tok/s",
  "cache reuse",
  "slow-node share",
  "success",
] as const;

const ms = (value: number | null, censored = false): string =>
  value === null ? "–" : `${censored ? "≥" : ""}${value.toFixed(0)}`;
const pct = (value: number | null, digits = 1): string =>
  value === null ? "–" : `${(value * 100).toFixed(digits)}%`;

function row(result: CellResult): string[] {
  const m: CellMetrics = result.metrics;
  return [
    `(${result.workload}) ${WORKLOAD_NAMES[result.workload]}`,
    result.policy,
    ms(m.ttftP50, m.ttftCensored.p50),
    ms(m.ttftP95, m.ttftCensored.p95),
    ms(m.ttftP99, m.ttftCensored.p99),
    ms(m.ttftMean),
    ms(m.e2eP50),
    ms(m.e2eP99),
    m.requestsPerSec.toFixed(1),
    m.meanInFlight.toFixed(1),
    m.outputTokensPerSec.toFixed(0),
    pct(m.cacheReuse),
    pct(m.slowNodeShare),
    pct(m.successRate),
  ];
}

function targetRow(t: TargetResult): string[] {
  const show = (v: number | null) =>
    t.unit === "share" ? pct(v) : t.unit === "count" ? (v === null ? "–" : v.toFixed(1)) : ms(v);
  return [t.description, show(t.value), show(t.bound), t.verdict + (t.note ? ` (${t.note})` : "")];
}

/** Fixed-width columns for the terminal. */
function plain(headers: readonly string[], rows: readonly string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [line(headers), ...rows.map(line)].join("\n");
}

function markdown(headers: readonly string[], rows: readonly string[][], rightFrom = 2): string {
  const align = headers.map((_, i) => (i >= rightFrom ? "---:" : "---"));
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(align), ...rows.map(line)].join("\n");
}

export function consoleReport(
  results: readonly CellResult[],
  targets: readonly TargetResult[],
  ttftTimeoutMs: number,
): string {
  return [
    `latencies in ms (TTFT ≥ means censored at the ${ttftTimeoutMs / 1000} s timeout); medians over the runs`,
    plain(HEADERS, results.map(row)),
    "",
    "targets for `latency`",
    plain(["target", "value", "bound", "verdict"], targets.map(targetRow)),
  ].join("\n");
}

export interface ReportContext {
  readonly command: string;
  readonly repeats: number;
  readonly fleetDescription: string;
  readonly ttftTimeoutMs: number;
}

export function markdownReport(
  results: readonly CellResult[],
  targets: readonly TargetResult[],
  context: ReportContext,
): string {
  return [
    "### Routing quality",
    "",
    `\`${context.command}\` — ${context.fleetDescription}. Medians of ${context.repeats} seeded runs per cell;`,
    `latencies in ms measured by the client; a request that has no token after ${context.ttftTimeoutMs / 1000} s is aborted and fails,`,
    `and counts as ≥${context.ttftTimeoutMs} ms in the TTFT percentiles and mean. End-to-end percentiles cover successful requests;`,
    "`in flight` is the mean number of requests open at once.",
    "",
    markdown(HEADERS, results.map(row)),
    "",
    "Targets for `latency`:",
    "",
    markdown(["target", "value", "bound", "verdict"], targets.map(targetRow), 1),
    "",
  ].join("\n");
}
