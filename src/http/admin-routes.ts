import { createHash, timingSafeEqual } from "node:crypto";
import type { Hono, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { z } from "zod";
import { bearerToken, type KeyRing, type UsageLedger } from "../accounting/index.js";
import { limitsSchema } from "../config/index.js";
import type { FleetView } from "../dashboard/index.js";
import { errors } from "../errors.js";
import type { FleetRegistry } from "../fleet/index.js";
import { parseRequestBody } from "../openai/index.js";
import { nodeReport } from "./admin.js";
import { parseJsonText, requireJsonType } from "./body.js";
import { type DashboardSessions, SESSION_COOKIE } from "./dashboard-session.js";
import type { RequestIdEnv } from "./request-id.js";
import { usageRoute } from "./usage-route.js";

export interface AdminDeps {
  readonly registry: FleetRegistry;
  /** The admin token; without one every admin route answers 401. */
  readonly token: string | undefined;
  readonly keys: KeyRing;
  /** Whether API calls need a key; issuing one on an open gateway would only mislead. */
  readonly enforced: boolean;
  /** Whether a region code is known (built in or configured), for a key's residency pin. */
  readonly isRegion: (code: string) => boolean;
  /** What the dashboard shows, served with the admin API. */
  readonly dashboard: FleetView;
  /** The usage ledger behind GET /admin/usage. */
  readonly ledger: UsageLedger;
}

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '_', '.' or '-'");

function keyRequestSchema(isRegion: (code: string) => boolean) {
  return z.strictObject({
    tenant: name,
    models: z.array(z.string().min(1).max(256)).min(1).max(256).optional(),
    regions: z
      .array(
        z
          .string()
          .transform((code) => code.toLowerCase())
          .refine(isRegion, "is not a known region"),
      )
      .min(1)
      .max(64)
      .optional(),
    limits: limitsSchema.optional(),
  });
}

/**
 * The admin API: every route behind the admin token. Registered on whichever app serves admin
 * (the main one, or the one on `admin.listen`).
 */
export function adminRoutes(app: Hono<RequestIdEnv>, deps: AdminDeps): void {
  const keyRequest = keyRequestSchema(deps.isRegion);
  app.use("/admin/*", adminToken(deps.token));
  app.use("/admin", adminToken(deps.token));
  app.get("/admin/nodes", (c) => c.json({ nodes: deps.registry.all().map(nodeReport) }));
  app.get("/admin/keys", async (c) => c.json({ keys: await deps.keys.list() }));
  app.post("/admin/keys", async (c) => {
    if (!deps.enforced) throw errors.authNotEnforced();
    const grant = parseRequestBody(keyRequest, await jsonOf(c.req.raw));
    const { info, secret } = await deps.keys.create(grant);
    // The secret is shown this once; only its hash is stored.
    return c.json({ ...info, key: secret }, 201);
  });
  app.delete("/admin/keys/:id", async (c) => c.json(await deps.keys.revoke(c.req.param("id"))));
  usageRoute(app, deps.ledger);
}

/**
 * Lets in a bearer of the admin token and, where `sessions` is given (the dashboard's own routes), a
 * browser holding a valid dashboard session cookie.
 */
export function adminToken(
  token: string | undefined,
  sessions?: DashboardSessions,
): MiddlewareHandler<RequestIdEnv> {
  const matches = tokenMatcher(token);
  return async function adminTokenCheck(c, next) {
    const given = bearerToken(c.req.header("authorization"));
    if (!matches(given) && !sessions?.valid(getCookie(c, SESSION_COOKIE))) {
      throw errors.adminUnauthorized(token !== undefined);
    }
    await next();
  };
}

/** Compares with the admin token in constant time: both sides are hashed to one length first. */
export function tokenMatcher(token: string | undefined): (given: string | undefined) => boolean {
  const expected = token === undefined ? undefined : digest(token);
  return (given) => expected !== undefined && given !== undefined && timingSafeEqual(digest(given), expected);
}

/**
 * Whether an API call is the admin's: the admin token as its Bearer (a gateway without keys) or in
 * `x-fleetgate-admin-token` (beside an API key, when keys are enforced).
 */
export function adminCaller(
  token: string | undefined,
): (header: (name: string) => string | undefined) => boolean {
  const matches = tokenMatcher(token);
  return (header) =>
    matches(header("x-fleetgate-admin-token")) || matches(bearerToken(header("authorization")));
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

const ADMIN_BODY_LIMIT = 64 * 1024;

export async function jsonOf(request: Request): Promise<unknown> {
  requireJsonType(request.headers.get("content-type") ?? undefined);
  const text = await request.text().catch(() => {
    // Reading the body fails only when the client's connection breaks.
    throw errors.clientClosed();
  });
  if (Buffer.byteLength(text) > ADMIN_BODY_LIMIT) throw errors.bodyTooLarge(ADMIN_BODY_LIMIT);
  return parseJsonText(text);
}
