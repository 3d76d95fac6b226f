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

  /**
   * The counters one entry adds, for the settlement's single store round trip: one field per metric
   * for the call's (key, tenant, model, node), so that any dimension can be summed from them.
   */
  counters(entry: LedgerEntry): HashCounters {
    const tuple = [entry.keyId, entry.tenant, entry.model, entry.node]
      .map((value) => encodeURIComponent(value ?? NONE))
      .join("|");
    const tokens = entry.promptTokens + entry.completionTokens;
    const metrics: Partial<Record<Metric, number>> = entry.cacheHit
      ? { requests: 1, cache_hits: 1, cache_hit_tokens: tokens }
      : {
          requests: 1,
          errors: entry.failed ? 1 : 0,
          prompt_tokens: entry.promptTokens,
          cached_tokens: entry.cachedTokens,
          completion_tokens: entry.completionTokens,
          estimated_tokens: entry.estimated ? tokens : 0,
        };
    const fields = new Map<string, number>();
    for (const [metric, by] of Object.entries(metrics)) if (by) fields.set(`${tuple}|${metric}`, by);
    return { key: minuteKey(Math.floor(entry.at / MINUTE)), fields, ttlMs: this.retentionMs + MINUTE };
  }

  /** Sums the minutes from `from` to `to` (epoch ms, inclusive), one row per value of the dimension. */
  async query(groupBy: LedgerDimension, from: number, to: number): Promise<UsageRow[]> {
    const first = Math.floor(from / MINUTE);
    const last = Math.floor(to / MINUTE);
    const minutes = Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
    const rows = new Map<string, Record<Metric, number>>();
    const column = LEDGER_DIMENSIONS.indexOf(groupBy);
    // Concurrent reads pipeline on one Redis connection; batches bound the memory of a long range.
    for (let start = 0; start < minutes.length; start += 500) {
      const hashes = await Promise.all(
        minutes.slice(start, start + 500).map((minute) => this.store.hashGetAll(minuteKey(minute))),
      );
      for (const hash of hashes) {
        for (const [field, value] of hash) {
          const parsed = parseField(field, column);
          if (!parsed) continue;
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

function parseField(field: string, column: number): { value: string; metric: Metric } | undefined {
  const parts = field.split("|");
  const metric = parts[LEDGER_DIMENSIONS.length] as Metric;
  const value = parts[column];
  if (parts.length !== LEDGER_DIMENSIONS.length + 1 || value === undefined || !METRICS.includes(metric))
    return undefined;
  return { value: decodeURIComponent(value), metric };
}

function emptyRow(): Record<Metric, number> {
  return Object.fromEntries(METRICS.map((metric) => [metric, 0])) as Record<Metric, number>;
}
