import type { GatewayError } from "../errors.js";
import type { NodeEntry } from "../fleet/index.js";

/** What one attempt on one node came to. */
export type AttemptResult<T> =
  | { readonly kind: "done"; readonly value: T }
  /** The node failed before anything reached the client: the next node may be tried. */
  | { readonly kind: "retry"; readonly error: GatewayError }
  /** A final answer (e.g. the client's own bad request): trying elsewhere would not change it. */
  | { readonly kind: "final"; readonly error: GatewayError };

/**
 * Walks the ranked nodes until one attempt is done or final, at most `maxAttempts` of them. Returns
 * the value, or the last error when every attempt failed.
 */
export async function tryInOrder<T>(
  ranked: readonly NodeEntry[],
  maxAttempts: number,
  attempt: (entry: NodeEntry) => Promise<AttemptResult<T>>,
  isCancelled: () => boolean,
): Promise<{ value: T } | { error: GatewayError }> {
  let lastError: GatewayError | undefined;
  for (const entry of ranked.slice(0, maxAttempts)) {
    const result = await attempt(entry);
    if (result.kind === "done") return { value: result.value };
    lastError = result.error;
    if (result.kind === "final" || isCancelled()) break;
  }
  if (!lastError) throw new Error("tryInOrder called with no candidates");
  return { error: lastError };
}
