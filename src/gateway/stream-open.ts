import { errors } from "../errors.js";
import type { SseEvent } from "../openai/index.js";
import { NodeFault, SseFramer, SseObserver } from "../upstream/index.js";
import type { Attempt } from "./attempt.js";
import type { AttemptResult } from "./failover.js";
import { type CallContext, callNode, transportFailure } from "./node-call.js";

/** A stream whose node has produced its first bytes; nothing has reached the client yet. */
export interface OpenedStream {
  readonly attempt: Attempt;
  readonly chunks: AsyncIterator<Uint8Array>;
  /** Holds any bytes after the first event; the relay goes on cutting with it. */
  readonly framer: SseFramer;
  /** The first complete event(s). */
  readonly first: Uint8Array;
  /** Already fed with `first`. */
  readonly observer: SseObserver;
  /** The events of `first`, as the observer decoded them. */
  readonly firstEvents: readonly SseEvent[];
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
    const framer = new SseFramer();
    let first: Uint8Array | undefined;
    try {
      // The first token is the first complete event: stray bytes do not stop the first-token clock.
      while (first === undefined) {
        const next = await chunks.next();
        if (next.done) break;
        first = framer.push(next.value);
      }
    } catch (err) {
      return transportFailure(attempt, err, context);
    }
    const observer = new SseObserver(clock);
    const firstEvents = first ? observer.push(first) : [];
    if (!first || observer.malformed) {
      const fault = new NodeFault(
        id,
        first
          ? errors.upstreamMalformed(id, "the stream did not start with valid SSE JSON")
          : errors.streamInterrupted(id, "the node closed the stream before its first event"),
      );
      attempt.abandon(fault);
      attempt.failByNode(fault);
      return { kind: "retry", error: fault };
    }
    return {
      kind: "done",
      value: { attempt, chunks, framer, first, observer, firstEvents, ttftMs: attempt.elapsedMs },
    };
  } finally {
    clearTimeout(timer);
  }
}
