import { errors, type GatewayError } from "../errors.js";
import type { NodeEntry } from "../fleet/index.js";
import type { NodeBreakers, RetryBudget } from "../resilience/index.js";

/** Breakers try a trial request after a few seconds; a client should not come back sooner. */
const BREAKER_RETRY_AFTER_SECONDS = 5;

/** What one attempt on one node came to. */
export type AttemptResult<T> =
  | { readonly kind: "done"; readonly value: T }
  /** The node failed before anything reached the client: the next node may be tried. */
  | { readonly kind: "retry"; readonly error: GatewayError }
  /** A final answer (e.g. the client's own bad request): trying elsewhere would not change it. */
  | { readonly kind: "final"; readonly error: GatewayError };

export interface FailoverGuards {
  readonly breakers: NodeBreakers;
  readonly budget: RetryBudget;
  /** True once the request is over for reasons of its own (client gone, deadline, shutdown). */
  readonly stopped: () => boolean;
}

/**
 * Walks the ranked nodes until one attempt is done or final. Nodes whose breaker refuses calls are
 * skipped without an attempt; every attempt after the first spends from the retry budget, so a
 * fleet-wide outage does not multiply the load on what is left of it.
 */
export async function tryInOrder<T>(
  ranked: readonly NodeEntry[],
  guards: FailoverGuards,
  attempt: (entry: NodeEntry) => Promise<AttemptResult<T>>,
): Promise<{ value: T; node: NodeEntry } | { error: GatewayError; node: NodeEntry | undefined }> {
  let lastError: GatewayError | undefined;
  let lastNode: NodeEntry | undefined;
  let tried = 0;
  for (const entry of ranked) {
    if (guards.breakers.isOpen(entry.id)) continue;
    if (tried > 0 && !guards.budget.tryAcquireRetry()) break;
    tried += 1;
    lastNode = entry;
    const result = await attempt(entry);
    if (result.kind === "done") return { value: result.value, node: entry };
    lastError = result.error;
    if (result.kind === "final" || guards.stopped()) break;
  }
  return {
    error: lastError ?? errors.allBreakersOpen(ranked.length, BREAKER_RETRY_AFTER_SECONDS),
    node: lastNode,
  };
}
