import { randomUUID } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import type { MiddlewareHandler } from "hono";

export type RequestIdEnv = { Bindings: HttpBindings; Variables: { requestId: string } };

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller's x-request-id when it is sane (it ends up in logs and headers), else makes one. */
export function requestIdOf(given: string | undefined): string {
  return given && SAFE_ID.test(given) ? given : randomUUID();
}

/** What every reply to a call echoes: its request id, and the trace context it was answered in. */
export function idHeaders(requestId: string, traceparent: string | undefined): Record<string, string> {
  return traceparent === undefined
    ? { "x-request-id": requestId }
    : { "x-request-id": requestId, traceparent };
}

/**
 * Gives every Hono-served request its id. Handlers echo it in their responses themselves: setting it
 * on `c.res` afterwards would turn every response into a Headers object.
 */
export function requestId(): MiddlewareHandler<RequestIdEnv> {
  return function requestIdMiddleware(c, next) {
    c.set("requestId", requestIdOf(c.req.header("x-request-id")));
    return next();
  };
}
