import { errors } from "../errors.js";
import { NodeFault, SseObserver } from "../upstream/index.js";
import type { Attempt } from "./attempt.js";
import type { AttemptResult } from "./failover.js";
import { type CallContext, callNode, transportFailure } from "./node-call.js";

/** A stream whose node has produced its first bytes; nothing has reached the client yet. */
export interface OpenedStream {
  readonly attempt: Attempt;
  readonly chunks: AsyncIterator<Uint8Array>;
  readonly first: Uint8Array;
  /** Already fed with `first`. */
  readonly observer: SseObserver;
  readonly ttftMs: number;
}

/**
 * Sends a streamed call to one node and waits for its first bytes, at most `ttftTimeoutMs`: a node
 * that is silent that long, fails, or opens with garbage is abandoned while the request can still
 * go elsewhere, since the client has seen nothing of it.
 */
export async function openStream(
  attempt: Attempt,
  context: CallContext,
  ttftTimeoutMs: number,
  clock: () => number,
): Promise<AttemptResult<OpenedStream>> {
  const id = attempt.entry.id;
  const timer = setTimeout(() => {
    attempt.abandon(
      new NodeFault(id, errors.upstreamTimeout(id, `no first token within ${ttftTimeoutMs} ms`)),
    );
  }, ttftTimeoutMs);
  try {
    const result = await callNode(attempt, context);
    if (result.kind !== "done") return result;
    const chunks = (result.value.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    let first: IteratorResult<Uint8Array>;
    try {
      first = await chunks.next();
    } catch (err) {
      return transportFailure(attempt, err, context);
    }
    const observer = new SseObserver(clock);
    if (!first.done) observer.push(first.value);
    if (first.done || observer.malformed) {
      const fault = new NodeFault(
        id,
        first.done
          ? errors.streamInterrupted(id, "the node closed the stream before the first byte")
          : errors.upstreamMalformed(id, "the stream did not start with valid SSE JSON"),
      );
      attempt.abandon(fault);
      attempt.failByNode(fault);
      return { kind: "retry", error: fault };
    }
    return {
      kind: "done",
      value: { attempt, chunks, first: first.value, observer, ttftMs: attempt.elapsedMs },
    };
  } finally {
    clearTimeout(timer);
  }
}
