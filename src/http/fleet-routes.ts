import { createHash } from "node:crypto";
import type { Hono, MiddlewareHandler } from "hono";
import { bearerToken } from "../accounting/index.js";
import { errors } from "../errors.js";
import {
  type Change,
  type FleetRegistry,
  heartbeatSchema,
  type NodeDirectory,
  registrationSchema,
} from "../fleet/index.js";
import { parseRequestBody } from "../openai/index.js";
import { jsonOf, tokenMatcher } from "./admin-routes.js";
import type { RequestIdEnv } from "./request-id.js";

export interface FleetRouteDeps {
  readonly directory: NodeDirectory;
  readonly registry: FleetRegistry;
  readonly enrollmentTokens: readonly string[];
  /** The SSRF guard: a reason when the URL may not be used, else its normal form. */
  readonly checkUrl: (url: string) => Promise<{ ok: true; url: string } | { ok: false; reason: string }>;
  readonly isRegion: (code: string) => boolean;
  readonly heartbeatIntervalMs: number;
  readonly ttlMs: number;
}

type FleetEnv = RequestIdEnv & { Variables: { owner: string } };

/**
 * The registration API nodes (their agents) call with an enrollment token. A node is owned by the
 * token that registered it: only that token can renew, drain or remove it.
 */
export function fleetRoutes(app: Hono<RequestIdEnv>, deps: FleetRouteDeps): void {
  const fleet = app as unknown as Hono<FleetEnv>;
  fleet.use("/fleet/*", enrollmentToken(deps.enrollmentTokens));
  fleet.post("/fleet/nodes", async (c) => {
    const body = parseRequestBody(registrationSchema, await jsonOf(c.req.raw));
    if (body.region !== undefined && !deps.isRegion(body.region)) {
      throw errors.invalidRequest(`region: unknown region '${body.region}'`, "region");
    }
    const checked = await deps.checkUrl(body.url);
    if (!checked.ok) throw errors.nodeUrlRefused(checked.reason);
    const existing = deps.registry.get(body.id);
    if (existing && !existing.record.registered) throw errors.nodeIdTaken(body.id);
    const change = await deps.directory.register(c.get("owner"), { ...body, url: checked.url });
    expect(change, body.id);
    return c.json(
      {
        id: body.id,
        status: change,
        heartbeat_interval_ms: deps.heartbeatIntervalMs,
        ttl_ms: deps.ttlMs,
      },
      change === "created" ? 201 : 200,
    );
  });
  fleet.put("/fleet/nodes/:id/heartbeat", async (c) => {
    const beat = parseRequestBody(heartbeatSchema, await jsonOf(c.req.raw));
    const id = c.req.param("id");
    expect(await deps.directory.heartbeat(c.get("owner"), id, beat), id);
    return c.json({ id, status: "alive" });
  });
  fleet.post("/fleet/nodes/:id/drain", async (c) => {
    const id = c.req.param("id");
    expect(await deps.directory.drain(c.get("owner"), id), id);
    return c.json({ id, status: "draining" });
  });
  fleet.delete("/fleet/nodes/:id", async (c) => {
    const id = c.req.param("id");
    expect(await deps.directory.deregister(c.get("owner"), id), id);
    return c.json({ id, status: "removed" });
  });
}

function expect(change: Change, id: string): void {
  if (change === "conflict") throw errors.nodeIdTaken(id);
  if (change === "not_found") throw errors.nodeNotRegistered(id);
}

/** Lets in a bearer of one of the enrollment tokens; the token's hash names the node's owner. */
function enrollmentToken(tokens: readonly string[]): MiddlewareHandler<FleetEnv> {
  const matchers = tokens.map((token) => ({ matches: tokenMatcher(token), owner: ownerOf(token) }));
  return async function enrollmentTokenCheck(c, next) {
    const given = bearerToken(c.req.header("authorization"));
    // Every matcher runs, so the time taken does not say which token came close.
    const owners = matchers.filter((m) => m.matches(given)).map((m) => m.owner);
    if (owners.length === 0) throw errors.enrollmentUnauthorized(tokens.length > 0);
    c.set("owner", owners[0]!);
    await next();
  };
}

function ownerOf(token: string): string {
  return createHash("sha256").update(`fleetgate-enrollment:${token}`).digest("hex").slice(0, 16);
}
