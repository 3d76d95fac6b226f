import type { GatewayError } from "../errors.js";
import type { NodeEntry } from "../fleet/index.js";
import { raceWithHedge } from "../resilience/index.js";
import type { Call } from "./call.js";
import { type AttemptResult, tryInOrder } from "./failover.js";
import { type OpenedStream, openStream } from "./stream-open.js";

/** A final error from the primary (the client's own bad request): no other node would do better. */
class FinalAnswer {
  constructor(readonly error: GatewayError) {}
}

/**
 * Opens a stream on the best node that will produce a first token: with hedging, the first two
 * nodes race once the first is slower than its p95; failover walks whatever is left.
 */
export async function openFirstStream(
  call: Call,
  ttftTimeoutMs: number,
  /** How long to wait on a node before hedging; undefined means do not hedge. */
  hedgeDelayMs: (nodeId: string) => number | undefined,
): Promise<OpenedStream | GatewayError> {
  const tried = new Set<string>();
  const { guards, ranked } = call;
  const openOn = (entry: NodeEntry, raceSignal?: AbortSignal) => {
    tried.add(entry.id);
    return openStream(call.beginAttempt(entry, raceSignal), call, ttftTimeoutMs, call.clock);
  };
  const [first, second] = ranked.filter((entry) => !guards.breakers.isOpen(entry.id));
  const delay = first && second ? hedgeDelayMs(first.id) : undefined;
  let lastError: GatewayError | undefined;
  if (first && second && delay !== undefined) {
    try {
      const raced = await raceWithHedge(
        async (signal) => unwrap(await openOn(first, signal)),
        async (signal) => unwrap(await openOn(second, signal)),
        delay,
        call.signal,
        { shouldHedge: () => guards.budget.tryAcquireRetry(), discard: closeUnused },
      );
      return raced.value;
    } catch (err) {
      if (err instanceof FinalAnswer) return err.error;
      lastError = err as GatewayError;
      if (guards.stopped()) return lastError;
    }
  }
  const rest = ranked.filter((entry) => !tried.has(entry.id));
  if (rest.length === 0 && lastError) return lastError;
  const outcome = await tryInOrder(rest, guards, (entry) => openOn(entry));
  return "error" in outcome ? outcome.error : outcome.value;
}

function unwrap(result: AttemptResult<OpenedStream>): OpenedStream {
  if (result.kind === "done") return result.value;
  if (result.kind === "final") throw new FinalAnswer(result.error);
  throw result.error;
}

/** A stream that lost the race but opened anyway: nobody will read it, and its node did nothing wrong. */
function closeUnused(opened: OpenedStream): void {
  opened.attempt.endWithoutFault();
  void opened.chunks.return?.();
}
