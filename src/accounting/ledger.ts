import type { HashCounters, StateStore } from "../store/index.js";

const MINUTE = 60_000;

export const LEDGER_DIMENSIONS = ["key", "tenant", "model", "node"] as const;
export type LedgerDimension = (typeof LEDGER_DIMENSIONS)[number];

const METRICS = [
  "requests",
  "prompt_tokens",
  "cached_tokens",
  "completion_tokens",
  "estimated_tokens",
  "errors",
  "cache_hits",
  "cache_hit_tokens",
] as const;
type Metric = (typeof METRICS)[number];

export type UsageRow = { readonly [dimension in LedgerDimension]?: string | null } & Record<Metric, number>;

/** What one settled call adds to the ledger. */
export interface LedgerEntry {
  readonly keyId: string | undefined;
  readonly tenant: string;
  readonly model: string | undefined;
  /** The node whose answer the client got; none for refusals and cache hits. */
  readonly node: string | undefined;
  readonly failed: boolean;
  /** Tokens the call is accounted for; zero when nothing was delivered. */
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens: number;
  readonly estimated: boolean;
  readonly cacheHit: boolean;
  readonly at: number;
}

// Stored for "none" (an open gateway's calls, a listing with no model), answered as null.
const NONE = "-";

/**
 * The usage ledger: exact (or marked estimated) usage per key, tenant, model and node, in one hash per
 * minute, so that any range can be summed and old minutes expire by themselves.
 */
export class UsageLedger {
  constructor(
    private readonly store: StateStore,
    private readonly retentionMs: number,
  ) {}

  get retention(): number {
    return this.retentionMs;
  }

  /** The counters one entry adds, for the settlement's single store round trip. */
  counters(entry: LedgerEntry): HashCounters {
    const fields = new Map<string, number>();
    const values: Record<LedgerDimension, string | undefined> = {
      key: entry.keyId,
      tenant: entry.tenant,
      model: entry.model,
      node: entry.node,
    };
    const add = (metrics: Partial<Record<Metric, number>>) => {
      for (const dimension of LEDGER_DIMENSIONS) {
        // A hit never reached a node: nothing for the node's operator.
        if (dimension === "node" && entry.node === undefined) continue;
        for (const [metric, by] of Object.entries(metrics)) {
          if (by) fields.set(fieldName(dimension, values[dimension], metric as Metric), by);
        }
      }
    };
    const tokens = entry.promptTokens + entry.completionTokens;
    if (entry.cacheHit) add({ requests: 1, cache_hits: 1, cache_hit_tokens: tokens });
    else {
      add({
        requests: 1,
        errors: entry.failed ? 1 : 0,
        prompt_tokens: entry.promptTokens,
        cached_tokens: entry.cachedTokens,
        completion_tokens: entry.completionTokens,
        estimated_tokens: entry.estimated ? tokens : 0,
      });
    }
    return { key: minuteKey(Math.floor(entry.at / MINUTE)), fields, ttlMs: this.retentionMs + MINUTE };
  }

  /** Sums the minutes from `from` to `to` (epoch ms, inclusive), one row per value of the dimension. */
  async query(groupBy: LedgerDimension, from: number, to: number): Promise<UsageRow[]> {
    const first = Math.floor(from / MINUTE);
    const last = Math.floor(to / MINUTE);
    const minutes = Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
    const rows = new Map<string, Record<Metric, number>>();
    // Concurrent reads pipeline on one Redis connection; batches bound the memory of a long range.
    for (let start = 0; start < minutes.length; start += 500) {
      const hashes = await Promise.all(
        minutes.slice(start, start + 500).map((minute) => this.store.hashGetAll(minuteKey(minute))),
      );
      for (const hash of hashes) {
        for (const [field, value] of hash) {
          const parsed = parseField(field);
          if (!parsed || parsed.dimension !== groupBy) continue;
          const row = rows.get(parsed.value) ?? emptyRow();
          row[parsed.metric] += Number(value);
          rows.set(parsed.value, row);
        }
      }
    }
    return [...rows]
      .map(([value, metrics]) => ({ [groupBy]: value === NONE ? null : value, ...metrics }) as UsageRow)
      .sort((a, b) => b.prompt_tokens + b.completion_tokens - (a.prompt_tokens + a.completion_tokens));
  }
}

function minuteKey(minute: number): string {
  return `ledger:${minute}`;
}

function fieldName(dimension: LedgerDimension, value: string | undefined, metric: Metric): string {
  return `${dimension}:${encodeURIComponent(value ?? NONE)}:${metric}`;
}

function parseField(
  field: string,
): { dimension: LedgerDimension; value: string; metric: Metric } | undefined {
  const [dimension, value, metric] = field.split(":");
  if (!LEDGER_DIMENSIONS.includes(dimension as LedgerDimension)) return undefined;
  if (!METRICS.includes(metric as Metric) || value === undefined) return undefined;
  return {
    dimension: dimension as LedgerDimension,
    value: decodeURIComponent(value),
    metric: metric as Metric,
  };
}

function emptyRow(): Record<Metric, number> {
  return Object.fromEntries(METRICS.map((metric) => [metric, 0])) as Record<Metric, number>;
}
