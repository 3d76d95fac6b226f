import { errors, type GatewayError } from "../errors.js";
import { encodeComment, type SseEvent, streamErrorEvent } from "../openai/index.js";
import type { ContinuationStream, StreamTranscript } from "../resilience/index.js";
import { NodeFault, type SseObserver, SseOverflow } from "../upstream/index.js";
import type { Attempt } from "./attempt.js";
import type { Call } from "./call.js";
import type { OpenedStream } from "./stream-open.js";
import { withoutUsageChunk } from "./usage-request.js";

/** A continuation under way on another node, with the attempt that accounts for it. */
export interface Continued {
  readonly stream: ContinuationStream;
  readonly attempt: Attempt;
}

export interface RelayOptions {
  /** The call being answered: told what the client got (errors, usage), asked whether the client left. */
  readonly call: Call;
  readonly keepAliveMs: number;
  readonly idleTimeoutMs: number;
  /** Why the gateway stopped the stream (deadline, shutdown), if it did: ended with that error, no blame. */
  readonly stoppedBy: () => GatewayError | undefined;
  /** Send a keep-alive comment before waiting: the client has already waited one interval. */
  readonly commentFirst: boolean;
  /** The client did not ask for the usage chunk the gateway asked the node for: it is dropped. */
  readonly stripUsage: boolean;
  /** Chat streams only: records what the client got, so a broken answer can be continued. */
  readonly transcript: StreamTranscript | undefined;
  /** Continues the answer elsewhere after a node failure; undefined when continuation is off. */
  readonly continueAfter: ((failedNode: string) => Promise<Continued | undefined>) | undefined;
}

const KEEP_ALIVE = encodeComment("keep-alive");
export const TICK = Symbol("tick");

/**
 * The body of a streamed reply. While no node has produced a token it sends SSE comments, so edge
 * proxies keep the connection open; then it relays the node's bytes unchanged, one chunk at a time,
 * pulling the next only when the client has taken the last (backpressure). If the node fails after
 * content was sent, the answer continues on another node when it can; otherwise the stream ends with
 * an explicit error event, never as if it were complete.
 */
export async function* relayStream(
  opening: Promise<OpenedStream | GatewayError>,
  options: RelayOptions,
): AsyncGenerator<Uint8Array | string> {
  let opened: OpenedStream | GatewayError | typeof TICK;
  if (options.commentFirst) yield KEEP_ALIVE;
  for (;;) {
    opened = await raceTick(opening, options.keepAliveMs);
    if (opened !== TICK) break;
    yield KEEP_ALIVE;
  }
  const { call } = options;
  if (!("attempt" in opened)) {
    yield endWith(call, opened);
    return;
  }
  const ending = yield* relayNode(opened, options);
  if (ending.kind === "complete" || call.clientGone()) return;
  if (ending.kind === "stopped") {
    yield endWith(call, ending.error);
    return;
  }
  const continued = await options.continueAfter?.(opened.attempt.entry.id);
  if (!continued) {
    yield endWith(call, ending.error);
    return;
  }
  yield* relayContinuation(continued, call);
}

/** The stream's last event when it cannot complete; the call remembers what the client was told. */
function endWith(call: Call, error: GatewayError): string {
  call.error = error;
  return streamErrorEvent(call.kind, error);
}

type Ending =
  | { readonly kind: "complete" }
  | { readonly kind: "stopped"; readonly error: GatewayError }
  | { readonly kind: "failed"; readonly error: GatewayError };

/** Relays one node's stream and settles its attempt; tells how the stream ended. */
async function* relayNode(
  opened: OpenedStream,
  options: RelayOptions,
): AsyncGenerator<Uint8Array | string, Ending> {
  const { attempt, chunks, observer, framer } = opened;
  const id = attempt.entry.id;
  const idle = setTimeout(() => {
    attempt.abandon(
      new NodeFault(id, errors.upstreamTimeout(id, `no event for ${options.idleTimeoutMs} ms`)),
    );
  }, options.idleTimeoutMs);
  let ending: Ending = { kind: "complete" };
  try {
    options.transcript?.record(opened.firstEvents);
    options.call.cacheFill?.recorder.record(opened.firstEvents);
    yield forClient(opened.first, opened.firstEvents, options.stripUsage);
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      // The framer's caps count from the node's first byte, the opening included.
      const events = framer.push(next.value);
      if (events instanceof SseOverflow) {
        ending = nodeFailure(attempt, events.detail);
        break;
      }
      if (!events) continue;
      // Only complete events count as progress: a node trickling bytes still goes idle.
      idle.refresh();
      const decoded = observer.push(events);
      if (observer.malformed) {
        ending = nodeFailure(attempt, "invalid SSE JSON");
        break;
      }
      options.transcript?.record(decoded);
      options.call.cacheFill?.recorder.record(decoded);
      const relayed = forClient(events, decoded, options.stripUsage);
      if (relayed.length > 0) yield relayed;
    }
    if (ending.kind === "complete") {
      const tail = framer.rest;
      const tailEvents = tail ? observer.push(tail) : [];
      options.call.cacheFill?.recorder.record(tailEvents);
      observer.end();
      if (observer.done && tail) yield forClient(tail, tailEvents, options.stripUsage);
      if (!observer.done && observer.errorPayload === undefined) {
        ending = {
          kind: "failed",
          error: errors.streamInterrupted(id, "the node closed the stream without [DONE]"),
        };
      }
    }
  } catch (err) {
    const stopped = options.stoppedBy();
    const abandoned = attempt.abandonedFor;
    ending = stopped
      ? { kind: "stopped", error: stopped }
      : { kind: "failed", error: errors.streamInterrupted(id, abandoned?.message ?? (err as Error).message) };
  } finally {
    clearTimeout(idle);
    options.call.usage = observer.report;
    options.call.completionChunks += observer.events;
    if (observer.errorPayload !== undefined) {
      options.call.error ??= errors.upstreamMalformed(id, "error event in stream");
    }
    settle(attempt, observer, opened.ttftMs, ending);
  }
  return ending;
}

function forClient(bytes: Uint8Array, events: readonly SseEvent[], stripUsage: boolean): Uint8Array | string {
  return stripUsage ? withoutUsageChunk(bytes, events) : bytes;
}

async function* relayContinuation(continued: Continued, call: Call): AsyncGenerator<string> {
  try {
    for await (const event of continued.stream) yield event;
  } finally {
    const { failure, finishReason } = continued.stream.outcome;
    // The first node's usage no longer describes the answer: the continuation's whole-answer count does.
    call.usage = undefined;
    call.continuedUsage = continued.stream.outcome.usage;
    if (failure) {
      call.error = failure;
      continued.attempt.failByNode(failure);
    } else if (finishReason) continued.attempt.succeed({});
    // The client left before the continuation finished: nobody's fault.
    else continued.attempt.endWithoutFault();
  }
}

function settle(attempt: Attempt, observer: SseObserver, ttftMs: number, ending: Ending): void {
  if (ending.kind === "failed" || observer.errorPayload !== undefined) {
    attempt.failByNode(
      ending.kind === "failed"
        ? ending.error
        : errors.upstreamMalformed(attempt.entry.id, "error event in stream"),
    );
  } else if (ending.kind === "stopped") {
    attempt.endWithoutFault();
  } else {
    const span = (observer.lastEventAt ?? 0) - (observer.firstEventAt ?? 0);
    attempt.succeed({
      ttftMs,
      interTokenMs: observer.events > 1 ? span / (observer.events - 1) : undefined,
      timings: observer.report.timings,
    });
  }
}

/** Gives up on the node for what it sent; the client's stream is still whole, events only. */
function nodeFailure(attempt: Attempt, detail: string): Ending {
  const id = attempt.entry.id;
  attempt.abandon(new NodeFault(id, errors.upstreamMalformed(id, detail)));
  return { kind: "failed", error: errors.streamInterrupted(id, detail) };
}

/** Waits for the promise or `ms`, whichever is first; the timer never outlives the race. */
export async function raceTick<T>(promise: Promise<T>, ms: number): Promise<T | typeof TICK> {
  let timer: NodeJS.Timeout | undefined;
  const tick = new Promise<typeof TICK>((resolve) => {
    timer = setTimeout(resolve, ms, TICK);
  });
  try {
    return await Promise.race([promise, tick]);
  } finally {
    clearTimeout(timer);
  }
}
