import type { RequestRecord } from "./driver.js";

/** What one policy achieved on one workload. Latencies in ms; `null` where nothing was measured. */
export interface CellMetrics {
  readonly requests: number;
  /** Share of requests with content within the time-to-first-token timeout and a clean end. */
  readonly successRate: number;
  /**
   * Time to first token over all requests; a failed request counts as the timeout, so a percentile
   * equal to the timeout means "at least the timeout" (the `ttftCensored` flags say which).
   */
  readonly ttftP50: number;
  readonly ttftP95: number;
  readonly ttftP99: number;
  readonly ttftCensored: { readonly p50: boolean; readonly p95: boolean; readonly p99: boolean };
  /** Mean time to first token, a failed request counting as the timeout. */
  readonly ttftMean: number;
  /** Requests in flight on average over the measured span (client's view). */
  readonly meanInFlight: number;
  /** End to end, over successful requests. */
  readonly e2eP50: number | null;
  readonly e2eP99: number | null;
  readonly requestsPerSec: number;
  readonly outputTokensPerSec: number;
  /** Σ cached prompt tokens / Σ prompt tokens, over requests that reported usage. */
  readonly cacheReuse: number | null;
  /** Share of the requests sent during the slowdown that went to the slowed node. */
  readonly slowNodeShare: number | null;
  /** Requests per node (by `x-fleetgate-node`), as shares. */
  readonly nodeShares: Readonly<Record<string, number>>;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

const ascending = (values: number[]): number[] => values.sort((a, b) => a - b);

function shares(records: readonly RequestRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records) {
    const node = record.node ?? "unknown";
    counts[node] = (counts[node] ?? 0) + 1;
  }
  return Object.fromEntries(
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([node, n]) => [node, n / Math.max(1, records.length)]),
  );
}

export function summarize(
  records: readonly RequestRecord[],
  ttftTimeoutMs: number,
  slowNodeId: string | undefined,
): CellMetrics {
  const ok = records.filter((r) => r.ok);
  const ttfts = ascending(records.map((r) => (r.ok && r.ttftMs !== undefined ? r.ttftMs : ttftTimeoutMs)));
  const e2es = ascending(ok.map((r) => r.e2eMs ?? 0));
  const ttftAt = (p: number): number => percentile(ttfts, p) ?? ttftTimeoutMs;
  const first = Math.min(...records.map((r) => r.sentAtMs));
  const last = Math.max(...ok.map((r) => r.sentAtMs + (r.e2eMs ?? 0)));
  const spanSec = Math.max(0.001, (last - first) / 1000);
  const reported = ok.filter((r) => r.promptTokens !== undefined && r.cachedTokens !== undefined);
  const promptTotal = reported.reduce((sum, r) => sum + (r.promptTokens ?? 0), 0);
  const slowed = records.filter((r) => r.duringSlowdown);
  const busyMs = records.reduce((sum, r) => sum + (r.e2eMs ?? ttftTimeoutMs), 0);
  return {
    requests: records.length,
    successRate: ok.length / Math.max(1, records.length),
    ttftP50: ttftAt(50),
    ttftP95: ttftAt(95),
    ttftP99: ttftAt(99),
    ttftCensored: {
      p50: ttftAt(50) >= ttftTimeoutMs,
      p95: ttftAt(95) >= ttftTimeoutMs,
      p99: ttftAt(99) >= ttftTimeoutMs,
    },
    ttftMean: ttfts.reduce((sum, t) => sum + t, 0) / Math.max(1, ttfts.length),
    meanInFlight: busyMs / (spanSec * 1000),
    e2eP50: percentile(e2es, 50),
    e2eP99: percentile(e2es, 99),
    requestsPerSec: ok.length / spanSec,
    outputTokensPerSec: ok.reduce((sum, r) => sum + (r.completionTokens ?? 0), 0) / spanSec,
    cacheReuse:
      promptTotal > 0 ? reported.reduce((sum, r) => sum + (r.cachedTokens ?? 0), 0) / promptTotal : null,
    slowNodeShare:
      slowNodeId !== undefined && slowed.length > 0
        ? slowed.filter((r) => r.node === slowNodeId).length / slowed.length
        : null,
    nodeShares: shares(records),
  };
}
