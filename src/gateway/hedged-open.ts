import type { GatewayError } from "../errors.js";
import type { NodeEntry } from "../fleet/index.js";
import { raceWithHedge } from "../resilience/index.js";
import type { Attempt } from "./attempt.js";
import { type AttemptResult, type FailoverGuards, tryInOrder } from "./failover.js";
import type { CallContext } from "./node-call.js";
import { type OpenedStream, openStream } from "./stream-open.js";

export interface OpenPlan {
  readonly ranked: readonly NodeEntry[];
  readonly guards: FailoverGuards;
  readonly context: CallContext;
  readonly ttftTimeoutMs: number;
  readonly clock: () => number;
  readonly begin: (entry: NodeEntry, raceSignal?: AbortSignal) => Attempt;
  /** How long to wait on a node before hedging; undefined means do not hedge. */
  readonly hedgeDelayMs: (nodeId: string) => number | undefined;
  /** Told each node an attempt goes to, so the reply can name it. */
  readonly onNode: (nodeId: string) => void;
}

/** A final error from the primary (the client's own bad request): no other node would do better. */
class FinalAnswer {
  constructor(readonly error: GatewayError) {}
}

/**
 * Opens a stream on the best node that will produce a first token: with hedging, the first two
 * nodes race once the first is slower than its p95; failover walks whatever is left.
 */
export async function openFirstStream(plan: OpenPlan): Promise<OpenedStream | GatewayError> {
  const tried = new Set<string>();
  const openOn = (entry: NodeEntry, raceSignal?: AbortSignal) => {
    tried.add(entry.id);
    plan.onNode(entry.id);
    return openStream(plan.begin(entry, raceSignal), plan.context, plan.ttftTimeoutMs, plan.clock);
  };
  const [first, second] = plan.ranked.filter((entry) => !plan.guards.breakers.isOpen(entry.id));
  const delay = first && second ? plan.hedgeDelayMs(first.id) : undefined;
  let lastError: GatewayError | undefined;
  if (first && second && delay !== undefined) {
    try {
      const raced = await raceWithHedge(
        async (signal) => unwrap(await openOn(first, signal)),
        async (signal) => unwrap(await openOn(second, signal)),
        delay,
        plan.context.signal,
        { shouldHedge: () => plan.guards.budget.tryAcquireRetry(), discard: closeUnused },
      );
      return raced.value;
    } catch (err) {
      if (err instanceof FinalAnswer) return err.error;
      lastError = err as GatewayError;
      if (plan.guards.stopped()) return lastError;
    }
  }
  const rest = plan.ranked.filter((entry) => !tried.has(entry.id));
  if (rest.length === 0 && lastError) return lastError;
  const outcome = await tryInOrder(rest, plan.guards, (entry) => openOn(entry));
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
