import type { IncomingMessage, ServerResponse } from "node:http";
import { errors, GatewayError } from "../errors.js";
import type { Gateway } from "../gateway/index.js";
import { type ApiRoute, apiRoute } from "../openai/index.js";
import type { Logger } from "../telemetry/index.js";
import { readJsonBody } from "./body.js";
import { replyForError } from "./error-reply.js";
import { header, requestContext } from "./incoming.js";
import { idHeaders, requestIdOf } from "./request-id.js";
import { closingUnlessRead, writeReply } from "./write-reply.js";

export interface ProxyDeps {
  readonly gateway: Gateway;
  readonly bodyLimitBytes: number;
  readonly log: Logger;
}

/** The endpoint a request is for, when it is one of the proxied POSTs. */
export function proxiedRoute(method: string | undefined, url: string | undefined): ApiRoute | undefined {
  if (method !== "POST" || url === undefined) return undefined;
  const query = url.indexOf("?");
  return apiRoute(query === -1 ? url : url.slice(0, query));
}

/**
 * The hot path, on plain Node request and response objects: every token of every answer passes
 * here, so it skips building fetch Requests, Responses and web streams (about a third of the CPU a
 * request cost through the framework).
 */
export async function handleProxied(
  route: ApiRoute,
  req: IncomingMessage,
  res: ServerResponse,
  deps: ProxyDeps,
): Promise<void> {
  const requestId = requestIdOf(header(req, "x-request-id"));
  const trace = deps.gateway.beginTrace(header(req, "traceparent"));
  const ids = idHeaders(requestId, trace.traceparent);
  const client = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) client.abort(errors.clientClosed());
  };
  res.on("close", onClose);
  try {
    const reply = await deps.gateway.handle({
      kind: route.kind,
      nodePath: route.nodePath,
      ...(await readBody(req, deps.bodyLimitBytes)),
      requestId,
      trace,
      signal: client.signal,
      ...requestContext(req),
    });
    await writeReply(res, reply, ids);
  } catch (err) {
    const reply = replyForError(err, deps.log, req.url);
    if (res.headersSent) res.destroy();
    else await writeReply(res, reply, closingUnlessRead(req, ids));
  } finally {
    res.off("close", onClose);
  }
}

const NO_BODY = new Uint8Array(0);

/** The body, or the client's error that stopped it being read: the gateway refuses and settles the call. */
async function readBody(
  req: IncomingMessage,
  limitBytes: number,
): Promise<{ json: unknown; rawBody: Uint8Array; unreadable?: GatewayError }> {
  try {
    const body = await readJsonBody(req, limitBytes);
    return { json: body.json, rawBody: body.raw };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { json: undefined, rawBody: NO_BODY, unreadable: err };
  }
}
