import type { RequestRecord } from "../../test/faults/support/load.js";
import { percentile } from "../overhead/stats.js";
import type { ScenarioRun } from "./run.js";

export interface Percentiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export interface ScenarioSummary {
  readonly scenario: string;
  readonly requests: number;
  readonly successRate: number;
  readonly errorRate: number;
  readonly violations: number;
  /** Violations and explicit errors by reason, for reading what went wrong. */
  readonly reasons: Record<string, number>;
  /** Streams only: time to the first data event of successful streams. */
  readonly ttftMs: Percentiles;
  /** Every successful request, sent to last byte. */
  readonly e2eMs: Percentiles;
  /** Chat streams that broke and were continued on another node, as a share of chat streams. */
  readonly continuedShare: number;
  readonly breakerOpenAfterMs: number | null;
  readonly faultyShareAfterOpen: number | null;
  readonly faultyAttempts: number;
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? null : Math.round(percentile(sorted, p)));
  return { p50: at(50), p95: at(95), p99: at(99) };
}

export function summarise(run: ScenarioRun): ScenarioSummary {
  const records = run.records;
  const count = (verdict: RequestRecord["outcome"]["verdict"]) =>
    records.filter((record) => record.outcome.verdict === verdict).length;
  const successes = records.filter((record) => record.outcome.verdict === "success");
  const reasons: Record<string, number> = {};
  for (const record of records) {
    if (record.outcome.verdict === "success") continue;
    const key = `${record.outcome.verdict}: ${record.outcome.reason.slice(0, 48)}`;
    reasons[key] = (reasons[key] ?? 0) + 1;
  }
  const chatStreams = records.filter((record) => record.spec.kind === "chat" && record.spec.stream);
  const total = Math.max(1, records.length);
  return {
    scenario: run.scenario,
    requests: records.length,
    successRate: count("success") / total,
    errorRate: count("error") / total,
    violations: count("violation"),
    reasons,
    ttftMs: percentiles(
      successes.filter((record) => record.spec.stream).flatMap((record) => record.ttftMs ?? []),
    ),
    e2eMs: percentiles(successes.map((record) => record.totalMs)),
    continuedShare:
      chatStreams.filter((record) => record.outcome.continued).length / Math.max(1, chatStreams.length),
    breakerOpenAfterMs: run.breakerOpenAfterMs === undefined ? null : Math.round(run.breakerOpenAfterMs),
    faultyShareAfterOpen: run.faultyShareAfterOpen ?? null,
    faultyAttempts: run.faultyAttempts,
  };
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const ms = (value: number | null) => (value === null ? "–" : String(value));
const triple = (p: Percentiles) => `${ms(p.p50)} / ${ms(p.p95)} / ${ms(p.p99)}`;

const HEADER = [
  "scenario",
  "requests",
  "success",
  "explicit error",
  "violations",
  "TTFT p50/p95/p99 ms",
  "e2e p50/p95/p99 ms",
  "continued",
  "node-0 attempts",
  "breaker open after",
  "node-0 share after open",
];

function row(summary: ScenarioSummary): string[] {
  return [
    summary.scenario,
    String(summary.requests),
    pct(summary.successRate),
    pct(summary.errorRate),
    String(summary.violations),
    triple(summary.ttftMs),
    triple(summary.e2eMs),
    pct(summary.continuedShare),
    String(summary.faultyAttempts),
    summary.breakerOpenAfterMs === null ? "never" : `${summary.breakerOpenAfterMs} ms`,
    summary.faultyShareAfterOpen === null ? "–" : pct(summary.faultyShareAfterOpen),
  ];
}

export function consoleTable(summaries: readonly ScenarioSummary[]): string {
  const rows = [HEADER, ...summaries.map(row)];
  const widths = HEADER.map((_, column) => Math.max(...rows.map((cells) => (cells[column] ?? "").length)));
  return rows.map((cells) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ")).join("\n");
}

export function markdownTable(summaries: readonly ScenarioSummary[]): string {
  const lines = [HEADER, HEADER.map(() => "---"), ...summaries.map(row)];
  return lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

export function reasonsList(summaries: readonly ScenarioSummary[]): string {
  return summaries
    .filter((summary) => Object.keys(summary.reasons).length > 0)
    .map(
      (summary) =>
        `- **${summary.scenario}**: ${Object.entries(summary.reasons)
          .map(([reason, n]) => `${n}× ${reason}`)
          .join("; ")}`,
    )
    .join("\n");
}
