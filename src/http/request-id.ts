import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";

export type RequestIdEnv = { Variables: { requestId: string } };

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller's x-request-id when it is sane, else makes one; every response echoes it. */
export function requestId(): MiddlewareHandler<RequestIdEnv> {
  return async function requestIdMiddleware(c, next) {
    const given = c.req.header("x-request-id");
    const id = given && SAFE_ID.test(given) ? given : randomUUID();
    c.set("requestId", id);
    await next();
    c.res.headers.set("x-request-id", id);
  };
}
