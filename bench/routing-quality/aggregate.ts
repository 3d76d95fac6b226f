import type { CellMetrics } from "./metrics.js";

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianOrNull(values: readonly (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : median(present);
}

function meanShares(runs: readonly CellMetrics[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const run of runs) {
    for (const [node, share] of Object.entries(run.nodeShares))
      total[node] = (total[node] ?? 0) + share / runs.length;
  }
  return total;
}

/** The median of each metric over repeated runs of one cell (each metric on its own). */
export function medianMetrics(runs: readonly CellMetrics[], ttftTimeoutMs: number): CellMetrics {
  const of = (pick: (m: CellMetrics) => number): number => median(runs.map(pick));
  const orNull = (pick: (m: CellMetrics) => number | null): number | null => medianOrNull(runs.map(pick));
  const ttftP50 = of((m) => m.ttftP50);
  const ttftP95 = of((m) => m.ttftP95);
  const ttftP99 = of((m) => m.ttftP99);
  return {
    requests: of((m) => m.requests),
    successRate: of((m) => m.successRate),
    ttftP50,
    ttftP95,
    ttftP99,
    ttftCensored: {
      p50: ttftP50 >= ttftTimeoutMs,
      p95: ttftP95 >= ttftTimeoutMs,
      p99: ttftP99 >= ttftTimeoutMs,
    },
    ttftMean: of((m) => m.ttftMean),
    meanInFlight: of((m) => m.meanInFlight),
    e2eP50: orNull((m) => m.e2eP50),
    e2eP99: orNull((m) => m.e2eP99),
    requestsPerSec: of((m) => m.requestsPerSec),
    outputTokensPerSec: of((m) => m.outputTokensPerSec),
    cacheReuse: orNull((m) => m.cacheReuse),
    slowNodeShare: orNull((m) => m.slowNodeShare),
    nodeShares: meanShares(runs),
  };
}
