/** What GET /dashboard/state answers: everything the page draws, in the admin API's snake_case. */
export interface DashboardSnapshot {
  readonly generated_at: string;
  readonly started_at: string;
  /** The span, in seconds, that the per-node rates, shares and the summary's rates are taken over. */
  readonly recent_window_s: number;
  readonly summary: FleetSummary;
  readonly nodes: readonly NodeRow[];
  readonly series: ChartSeries;
  readonly usage: { readonly keys: readonly UsageRow[]; readonly tenants: readonly UsageRow[] };
  readonly errors: readonly ErrorRow[];
}

export interface FleetSummary {
  /** `serving`, or `draining` once a shutdown began. */
  readonly gateway: "serving" | "draining";
  readonly nodes: number;
  readonly healthy: number;
  readonly in_flight: number;
  readonly slots_busy: number;
  readonly slots_total: number;
  readonly requests_total: number;
  readonly requests_per_s: number;
  readonly tokens_per_s: number;
  readonly ttft_p50_ms: number | null;
  readonly ttft_p95_ms: number | null;
  /** Calls that failed other than by the client's doing (5xx, or a stream that ended in an error). */
  readonly error_rate: number;
}

export interface NodeRow {
  readonly id: string;
  readonly state: string;
  readonly breaker: string;
  readonly region: string | null;
  readonly models: readonly string[];
  readonly slots_busy: number;
  readonly slots_total: number | null;
  readonly in_flight: number;
  readonly ttft_p50_ms: number | null;
  readonly ttft_p95_ms: number | null;
  readonly tokens_per_s: number;
  /** Failed attempts that were the node's fault, over the attempts that count (as the registry counts). */
  readonly error_rate: number;
  /** The node's part of the answers the fleet served. */
  readonly share: number;
  readonly last_error: string | null;
}

export interface ChartSeries {
  /** The time the first point starts at; points are `step_s` apart. */
  readonly start: string;
  readonly step_s: number;
  readonly requests_per_s: readonly number[];
  /** The mean time to first token of the calls in each step; null where none had one. */
  readonly ttft_ms: readonly (number | null)[];
}

export interface UsageRow {
  readonly name: string;
  readonly requests: number;
  readonly errors: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
}

export interface ErrorRow {
  readonly at: string;
  readonly request_id: string;
  readonly status: number;
  readonly code: string;
  /** The call still got its answer, from another node than the one that failed. */
  readonly recovered: boolean;
  readonly model: string | null;
  readonly tenant: string;
  readonly key_id: string | null;
  /** The nodes tried, in order, each with the code it failed with if it did. */
  readonly attempts: readonly { readonly node: string; readonly code: string | null }[];
}
