import { randomUUID } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import type { MiddlewareHandler } from "hono";

export type RequestIdEnv = { Bindings: HttpBindings; Variables: { requestId: string } };

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Keeps a caller's x-request-id when it is sane, else makes one. Handlers echo it in their responses
 * themselves: setting it on `c.res` afterwards would turn every response into a Headers object.
 */
export function requestId(): MiddlewareHandler<RequestIdEnv> {
  return function requestIdMiddleware(c, next) {
    const given = c.req.header("x-request-id");
    c.set("requestId", given && SAFE_ID.test(given) ? given : randomUUID());
    return next();
  };
}
