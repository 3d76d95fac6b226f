import { errors } from "../errors.js";
import type { SseEvent } from "../openai/index.js";
import { NodeFault, SseFramer, SseObserver, SseOverflow } from "../upstream/index.js";
import type { Attempt } from "./attempt.js";
import type { AttemptResult } from "./failover.js";
import { type CallContext, callNode, errorStatus, transportFailure } from "./node-call.js";
import { prefillAllowanceMs } from "./time-budget.js";

/** A stream whose node has produced its first bytes; nothing has reached the client yet. */
export interface OpenedStream {
  readonly attempt: Attempt;
  readonly chunks: AsyncIterator<Uint8Array>;
  /** Holds any bytes after the first event; the relay goes on cutting with it. */
  readonly framer: SseFramer;
  /** The first complete event(s), with any comments before them. */
  readonly first: Uint8Array;
  /** Already fed with `first`. */
  readonly observer: SseObserver;
  /** The events of `first`, as the observer decoded them. */
  readonly firstEvents: readonly SseEvent[];
  readonly ttftMs: number;
}

/** What the node opened with: its first data event(s), or why there is none. */
type Opening = { readonly first: Uint8Array; readonly events: readonly SseEvent[] } | SseOverflow | "closed";

/**
 * Sends a streamed call to one node and waits for its first data event, at most `ttftTimeoutMs`
 * plus the prefill the prompt asks for: a node that is silent that long, fails, or opens with
 * anything but a JSON chunk is abandoned while the request can still go elsewhere, since the
 * client has seen nothing of it.
 */
export async function openStream(
  attempt: Attempt,
  context: CallContext,
  ttftTimeoutMs: number,
  clock: () => number,
): Promise<AttemptResult<OpenedStream>> {
  const id = attempt.entry.id;
  const limitMs = Math.round(ttftTimeoutMs + prefillAllowanceMs(attempt.entry, context.features));
  const timer = setTimeout(() => {
    attempt.abandon(new NodeFault(id, errors.upstreamTimeout(id, `no first token within ${limitMs} ms`)));
  }, limitMs);
  try {
    const result = await callNode(attempt, context);
    if (result.kind !== "done") return result;
    const chunks = (result.value.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const framer = new SseFramer(context.pools.limits);
    const observer = new SseObserver(clock, context.streamEnd);
    let opening: Opening;
    try {
      opening = await readOpening(chunks, framer, observer);
    } catch (err) {
      return transportFailure(attempt, err, context);
    }
    if (
      opening === "closed" ||
      opening instanceof SseOverflow ||
      observer.malformed ||
      observer.events === 0
    ) {
      const fault = new NodeFault(id, badOpening(id, opening));
      attempt.abandon(fault);
      attempt.failByNode(fault);
      return { kind: "retry", error: fault };
    }
    if (observer.errorPayload !== undefined) {
      void chunks.return?.();
      return errorStatus(attempt, ...asErrorAnswer(observer.errorPayload));
    }
    const { first, events } = opening;
    attempt.firstToken();
    return {
      kind: "done",
      value: { attempt, chunks, framer, first, observer, firstEvents: events, ttftMs: attempt.elapsedMs },
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads until the first data event. The first token is the first complete event: stray bytes and
 * comments do not stop the first-token clock, and every event up to it is parsed, not guessed at.
 */
async function readOpening(
  chunks: AsyncIterator<Uint8Array>,
  framer: SseFramer,
  observer: SseObserver,
): Promise<Opening> {
  const parts: Uint8Array[] = [];
  const events: SseEvent[] = [];
  while (events.length === 0) {
    const next = await chunks.next();
    if (next.done) return "closed";
    const framed = framer.push(next.value);
    if (framed instanceof SseOverflow) return framed;
    if (!framed) continue;
    parts.push(framed);
    events.push(...observer.push(framed, true));
  }
  return { first: parts.length === 1 ? parts[0]! : Buffer.concat(parts), events };
}

function badOpening(id: string, opening: Opening) {
  if (opening === "closed")
    return errors.streamInterrupted(id, "the node closed the stream before its first event");
  if (opening instanceof SseOverflow) return errors.upstreamMalformed(id, opening.detail);
  return errors.upstreamMalformed(id, "the stream did not start with a JSON chunk");
}

/**
 * An error event before any content is the error answer the node would have given as a status:
 * judged the same way (whose fault, whether another node may try), since the client saw nothing.
 */
function asErrorAnswer(payload: unknown): [number, Buffer] {
  const code =
    typeof payload === "object" && payload !== null && "code" in payload ? payload.code : undefined;
  const status = typeof code === "number" && code >= 400 && code <= 599 ? code : 500;
  return [status, Buffer.from(JSON.stringify({ error: payload }))];
}
