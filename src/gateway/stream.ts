import { errors, type GatewayError } from "../errors.js";
import { encodeComment, errorEvent } from "../openai/index.js";
import { SseObserver } from "../upstream/index.js";
import type { Attempt } from "./attempt.js";

/** A stream whose node has produced its first bytes; nothing has reached the client yet. */
export interface OpenedStream {
  readonly attempt: Attempt;
  readonly chunks: AsyncIterator<Uint8Array>;
  readonly first: Uint8Array;
}

export interface RelayOptions {
  readonly keepAliveMs: number;
  readonly clock: () => number;
  /** True once the client has gone away; the relay then ends quietly without blaming the node. */
  readonly clientGone: () => boolean;
  /** Why the gateway stopped the stream (deadline, shutdown), if it did: ended with that error, no blame. */
  readonly stoppedBy: () => GatewayError | undefined;
  /** Send a keep-alive comment before waiting: the client has already waited one interval. */
  readonly commentFirst: boolean;
}

const KEEP_ALIVE = encodeComment("keep-alive");
export const TICK = Symbol("tick");

/**
 * The body of a streamed reply. While no node has produced a token it sends SSE comments, so edge
 * proxies keep the connection open; then it relays the node's bytes unchanged, one chunk at a time,
 * pulling the next only when the client has taken the last (backpressure). A stream that ends
 * without `[DONE]` or breaks off ends with an explicit error event, never as if it were complete.
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
  if (!("attempt" in opened)) {
    yield errorEvent(opened);
    return;
  }
  yield* relayOpened(opened, options);
}

async function* relayOpened(
  opened: OpenedStream,
  options: RelayOptions,
): AsyncGenerator<Uint8Array | string> {
  const { attempt, chunks } = opened;
  const observer = new SseObserver(options.clock);
  const ttftMs = attempt.elapsedMs;
  let failure: GatewayError | undefined;
  let stopped: GatewayError | undefined;
  try {
    observer.push(opened.first);
    yield opened.first;
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      observer.push(next.value);
      yield next.value;
    }
    observer.end();
    if (!observer.done && observer.errorPayload === undefined) {
      failure = errors.streamInterrupted(attempt.entry.id, "the node closed the stream without [DONE]");
    }
  } catch (err) {
    stopped = options.stoppedBy();
    if (!stopped) failure = errors.streamInterrupted(attempt.entry.id, (err as Error).message);
  } finally {
    settle(attempt, observer, ttftMs, failure, stopped !== undefined);
  }
  const ending = failure ?? stopped;
  if (ending && !options.clientGone()) yield errorEvent(ending);
}

function settle(
  attempt: Attempt,
  observer: SseObserver,
  ttftMs: number,
  failure: GatewayError | undefined,
  stopped: boolean,
): void {
  if (failure || observer.malformed || observer.errorPayload !== undefined) {
    attempt.failByNode(failure ?? errors.upstreamMalformed(attempt.entry.id, "error event in stream"));
  } else if (stopped && !observer.done) {
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
