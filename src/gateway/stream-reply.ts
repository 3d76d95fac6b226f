import { errors } from "../errors.js";
import { StreamTranscript } from "../resilience/index.js";
import type { Call } from "./call.js";
import { continuationFor } from "./continue.js";
import { openFirstStream } from "./hedged-open.js";
import { stopReason } from "./node-call.js";
import { errorReply, type GatewayReply, SSE_HEADERS } from "./reply.js";
import { raceTick, relayStream, TICK } from "./stream.js";
import { clientWantsUsage } from "./usage-request.js";

export interface StreamSettings {
  readonly keepAliveMs: number;
  /** How long the first token is awaited before the 200 is committed (server.keepalive_after_ms). */
  readonly keepAliveAfterMs: number;
  readonly idleTimeoutMs: number;
  readonly ttftTimeoutMs: number;
  readonly continuation: boolean;
  /** Hedging delay per node; undefined when hedging is off or the node has no history yet. */
  readonly hedgeDelayMs: (nodeId: string) => number | undefined;
}

/**
 * A streamed answer. Until `keepAliveAfterMs` has passed, a node failing before its first token
 * still gets its real HTTP status (and SDKs retry a 5xx or raise the right error); after that the
 * headers go out and the body carries keep-alive comments, the node's events, a continuation or an
 * explicit error event. The body settles the call when it ends, however it ends.
 */
export async function streamReply(call: Call, settings: StreamSettings): Promise<GatewayReply> {
  const request = call.request;
  const opening = openFirstStream(call, settings.ttftTimeoutMs, settings.hedgeDelayMs);
  const settledFirst = await raceTick(opening, settings.keepAliveAfterMs);
  const headers = { "x-fleetgate-route": call.route?.reason ?? "" };
  if (settledFirst !== TICK && !("attempt" in settledFirst)) {
    call.error = settledFirst;
    return errorReply(settledFirst, { ...headers, "x-fleetgate-node": call.currentNode ?? "" });
  }
  const chat = request?.kind === "chat" ? request.body : undefined;
  // A continuation is a raw completion re-sent as chat chunks: it cannot give the logprobs a client
  // asked for, so such a stream ends with an explicit error rather than silently changing shape.
  // Other endpoints' streams (Responses, Messages, infill) carry item ids and sequence numbers that
  // another node cannot carry on: they end the same way.
  const continuable = chat !== undefined && chat.logprobs !== true && settings.continuation;
  const transcript = continuable ? new StreamTranscript() : undefined;
  const chunks = settledBy(
    call,
    relayStream(opening, {
      call,
      keepAliveMs: settings.keepAliveMs,
      idleTimeoutMs: settings.idleTimeoutMs,
      stoppedBy: () => stopReason(call, call.currentNode ?? ""),
      commentFirst: settledFirst === TICK,
      stripUsage: !clientWantsUsage(request),
      transcript,
      continueAfter: transcript && chat ? continuationFor(call, chat, transcript) : undefined,
    }),
  );
  return {
    status: 200,
    // The node named is the one answering, or being waited on if none has answered yet.
    headers: { ...SSE_HEADERS, ...headers, "x-fleetgate-node": call.currentNode ?? "" },
    body: {
      chunks,
      cancel: () => {
        call.lifetime.abort(errors.clientClosed());
        void chunks.return(undefined);
      },
    },
  };
}

const COLON = 0x3a;

/** Counts what reaches the client and settles the call once the body is done, completed or not. */
export async function* settledBy(
  call: Call,
  chunks: AsyncGenerator<Uint8Array | string>,
): AsyncGenerator<Uint8Array | string> {
  try {
    for await (const chunk of chunks) {
      const size = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
      call.bytes += size;
      // Keep-alive comments start with ':'; the first anything else is the first content.
      if (call.firstContentAt === undefined && firstByte(chunk) !== COLON) call.firstContentAt = call.clock();
      yield chunk;
    }
  } finally {
    if (call.clientGone() && !call.error) call.error = errors.clientClosed();
    call.settle(200);
  }
}

function firstByte(chunk: Uint8Array | string): number | undefined {
  return typeof chunk === "string" ? chunk.charCodeAt(0) : chunk[0];
}
