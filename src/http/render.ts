import type { PlainReply } from "../gateway/index.js";

/** A one-piece pipeline reply as a fetch Response, for the routes Hono serves. */
export function toResponse(reply: PlainReply, extraHeaders: Record<string, string>): Response {
  return new Response(reply.body, { status: reply.status, headers: { ...reply.headers, ...extraHeaders } });
}
