import type { GatewayError } from "../errors.js";
import { errorEnvelope } from "../openai/index.js";

/** A streamed body; `cancel` runs when the client goes away so upstream work stops at once. */
export interface ReplyStream {
  readonly chunks: AsyncIterable<Uint8Array | string>;
  cancel(): void;
}

/** An answer in one piece. */
export interface PlainReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array;
}

/** What the pipeline answers, independent of the HTTP framework that writes it. */
export type GatewayReply = PlainReply | (Omit<PlainReply, "body"> & { readonly body: ReplyStream });

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Tells nginx-style proxies not to buffer the stream.
  "x-accel-buffering": "no",
};

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): PlainReply {
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  };
}

export function errorReply(err: GatewayError, headers: Record<string, string> = {}): PlainReply {
  const extra: Record<string, string> = { ...headers };
  if (err.retryAfterSeconds !== undefined) extra["retry-after"] = String(err.retryAfterSeconds);
  return jsonReply(err.status, errorEnvelope(err), extra);
}
