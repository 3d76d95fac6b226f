/**
 * What the gateway measures, in its own terms. The OpenTelemetry instruments behind it live in
 * instruments.ts; callers never see a meter, a histogram or a Prometheus name.
 */

/** `gen_ai.operation.name` values for the OpenAI endpoints fleetgate serves. */
export type GenAiOperation = "chat" | "text_completion" | "embeddings";

/** A node as the GenAI attributes name it: `server.address`/`server.port`, and the fleet's id for joins. */
export interface NodeAddress {
  readonly id: string;
  readonly address: string;
  readonly port: number;
}

/** One inference call, as the GenAI semantic conventions see it. */
export interface OperationRecord {
  readonly operation: GenAiOperation;
  /** The model asked for, only when the fleet serves it: a client's made-up name is unbounded. */
  readonly model: string | undefined;
  /** The node whose answer the client got (or the last one tried). */
  readonly node: NodeAddress | undefined;
  /** The catalogue code the client saw, when the call failed. */
  readonly errorType: string | undefined;
  readonly durationS: number;
  /** Successful calls only, as the conventions define both. */
  readonly ttftS: number | undefined;
  readonly timePerOutputTokenS: number | undefined;
  /** Counts from a node's answer; undefined when no node answered. */
  readonly inputTokens: number | undefined;
  readonly outputTokens: number | undefined;
}

export type AttemptResult = "ok" | "failed" | "ended";

export interface GatewayMetrics {
  operation(record: OperationRecord): void;
  /** One try on one node: `failed` is the node's fault, `ended` nobody's (client left, lost race). */
  attempt(node: string, result: AttemptResult, errorType: string | undefined): void;
  /** The router sent a call to `node` for `reason` (e.g. `latency;affinity=hit`). */
  routed(node: string, reason: string): void;
  /** A node failed before the first byte and the call went on to another. */
  failover(fromNode: string): void;
  /** A stream broken mid-answer was picked up by `node`. */
  continuation(node: string): void;
  /** A second node was raced against a slow first one; `won` when its answer was the one used. */
  hedge(won: boolean): void;
  /** Time a call waited in the admission queue; `errorType` when it was refused there. */
  admissionWait(seconds: number, errorType: string | undefined): void;
  /** A state store operation failed (Redis down, a refused command). */
  storeError(operation: string): void;
  /** A call refused by a key's or tenant's quota, by the limit it hit. */
  quotaRefused(limit: string): void;
  /** The quota store failed and the call went on as `quotas.on_store_error` says (`open` or `closed`). */
  quotaFallback(operation: string, decision: string): void;
  /** What the prompt cache did for a call it had a part in. */
  cacheLookup(result: "hit" | "miss" | "bypass"): void;
  /** The prompt cache stored an answer. */
  cacheFill(): void;
  /** A prompt cache operation ran from memory only because the shared store failed. */
  cacheStoreFallback(): void;
}

/** One node now, read when metrics are collected (never per request). */
export interface NodeReading {
  readonly id: string;
  /** The health state word (healthy, unhealthy, loading, unknown). */
  readonly state: string;
  /** Whether routing may send it calls: healthy with its breaker not open. */
  readonly up: boolean;
  readonly breaker: "closed" | "open" | "half-open";
  readonly inFlight: number;
  readonly slotsTotal: number | undefined;
  readonly slotsBusy: number;
  readonly deferred: number;
}

export interface FleetReading {
  readonly nodes: readonly NodeReading[];
  /** Calls waiting in the admission queue. */
  readonly queueDepth: number;
}
