import type { GatewayReply } from "../gateway/index.js";

const encoder = new TextEncoder();

/**
 * Turns a pipeline reply into a fetch Response. A streamed body is pulled one chunk at a time, so a
 * slow client slows the relay instead of filling memory; cancelling it (client gone) stops upstream.
 */
export function toResponse(reply: GatewayReply, extraHeaders: Record<string, string>): Response {
  const headers = { ...reply.headers, ...extraHeaders };
  const body = reply.body;
  if (typeof body === "string" || body instanceof Uint8Array) {
    return new Response(body, { status: reply.status, headers });
  }
  const iterator = body.chunks[Symbol.asyncIterator]();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(typeof next.value === "string" ? encoder.encode(next.value) : next.value);
      } catch (err) {
        controller.error(err);
      }
    },
    cancel() {
      body.cancel();
    },
  });
  return new Response(stream, { status: reply.status, headers });
}
