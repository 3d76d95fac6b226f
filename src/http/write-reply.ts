import type { IncomingMessage, ServerResponse } from "node:http";
import type { GatewayReply } from "../gateway/index.js";

/**
 * Writes a pipeline reply to a Node response. A streamed body is written chunk by chunk and the next
 * chunk is pulled only once the socket has taken the last (backpressure), so a slow client slows the
 * relay instead of filling memory; a client that goes away cancels the stream, and with it upstream.
 */
export async function writeReply(
  res: ServerResponse,
  reply: GatewayReply,
  extraHeaders: Record<string, string>,
): Promise<void> {
  const headers = { ...reply.headers, ...extraHeaders };
  const body = reply.body;
  if (typeof body === "string" || body instanceof Uint8Array) {
    res.writeHead(reply.status, { ...headers, "content-length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  res.writeHead(reply.status, headers);
  res.flushHeaders();
  let gone = false;
  const onClose = () => {
    if (res.writableFinished) return;
    gone = true;
    body.cancel();
  };
  res.on("close", onClose);
  try {
    for await (const chunk of body.chunks) {
      if (gone) break;
      if (!res.write(chunk)) await drained(res);
    }
  } finally {
    res.off("close", onClose);
    if (!gone) res.end();
  }
}

/** Resolves when the socket wants more, or when it closed (the loop then sees `gone`). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Headers for an answer given before the request's body was read (a refusal): reading an unwanted
 * upload to its end just to keep the connection alive is what a hostile client would want, so the
 * connection closes once the answer is out instead.
 */
export function closingUnlessRead(
  req: IncomingMessage,
  headers: Record<string, string>,
): Record<string, string> {
  return req.complete ? headers : { ...headers, connection: "close" };
}
