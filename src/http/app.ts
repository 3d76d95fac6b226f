import { type Context, Hono } from "hono";
import { errors } from "../errors.js";
import type { FleetRegistry } from "../fleet/index.js";
import type { Gateway, IncomingCall, PlainReply } from "../gateway/index.js";
import { errorReply } from "../gateway/index.js";
import { API_PATHS } from "../openai/index.js";
import type { Logger } from "../telemetry/index.js";
import { type AdminDeps, adminRoutes } from "./admin-routes.js";
import { dashboardRoutes } from "./dashboard-routes.js";
import { replyForError } from "./error-reply.js";
import { type FleetRouteDeps, fleetRoutes } from "./fleet-routes.js";
import { requestContext } from "./incoming.js";
import { type MetricsDeps, metricsRoute } from "./metrics-route.js";
import { toResponse } from "./render.js";
import { idHeaders, type RequestIdEnv, requestId } from "./request-id.js";

export interface AppDeps {
  readonly gateway: Gateway;
  readonly registry: FleetRegistry;
  readonly log: Logger;
  /** The admin API, when this app serves it (it may have a listener of its own). */
  readonly admin: AdminDeps | undefined;
  /** `GET /metrics`, when metrics are on. */
  readonly metrics?: MetricsDeps | undefined;
  /** The registration API for nodes that join at run time; on the main port, where nodes reach it. */
  readonly fleet?: FleetRouteDeps | undefined;
}

type Listing = { readonly kind: "models" } | { readonly kind: "model"; readonly modelId: string };

/** Everything but the proxied POSTs, which the Node fast path in proxy-handler.ts serves. */
export function createApp(deps: AppDeps): Hono<RequestIdEnv> {
  const app = baseApp();

  // API routes are calls like any other: they run the gateway's stages (authentication first).
  const viaGateway = async (c: Context<RequestIdEnv>, listing: Listing) => {
    const trace = deps.gateway.beginTrace(c.req.header("traceparent"));
    const ids = idHeaders(c.get("requestId"), trace.traceparent);
    try {
      // Listings are always answered in one piece.
      const reply = (await deps.gateway.handle({ ...listing, ...callBase(c), trace })) as PlainReply;
      return toResponse(reply, ids);
    } catch (err) {
      // Answered here, not by onError, so that a refusal echoes the call's trace context too.
      return toResponse(replyForError(err, deps.log, c.req.path), ids);
    }
  };
  app.get("/v1/models", (c) => viaGateway(c, { kind: "models" }));
  app.get("/v1/models/:id{.+}", (c) => viaGateway(c, { kind: "model", modelId: c.req.param("id") }));
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const ready = deps.gateway.ready();
    return c.json(
      {
        status: ready ? "ready" : "not_ready",
        healthy_nodes: deps.registry.healthy().length,
        draining: deps.gateway.isDraining,
      },
      ready ? 200 : 503,
    );
  });
  if (deps.admin) adminSurface(app, deps.admin);
  if (deps.metrics) metricsRoute(app, deps.metrics);
  if (deps.fleet) fleetRoutes(app, deps.fleet);
  wrongMethods(app);
  return withErrorReplies(app, deps.log);
}

/**
 * A known API path asked with another method gets 405 and `Allow`, as llama-server and OpenAI do,
 * not a 404 that says the route does not exist. The proxied POSTs never get here: the fast path
 * takes them (and CORS preflights are answered before either path).
 */
function wrongMethods(app: Hono<RequestIdEnv>): void {
  const refuse = (c: Context<RequestIdEnv>, allowed: readonly string[]) =>
    toResponse(errorReply(errors.methodNotAllowed(c.req.method, c.req.path, allowed)), {
      "x-request-id": c.get("requestId"),
      allow: allowed.join(", "),
    });
  for (const path of API_PATHS) app.all(path, (c) => refuse(c, ["POST"]));
  app.all("/v1/models", (c) => refuse(c, ["GET"]));
  app.all("/v1/models/:id{.+}", (c) => refuse(c, ["GET"]));
}

/** Only the admin API, for its own listener (`admin.listen`). */
export function createAdminApp(admin: AdminDeps, log: Logger): Hono<RequestIdEnv> {
  const app = baseApp();
  adminSurface(app, admin);
  return withErrorReplies(app, log);
}

/** The admin API and the dashboard go together, on whichever listener serves admin. */
function adminSurface(app: Hono<RequestIdEnv>, admin: AdminDeps): void {
  adminRoutes(app, admin);
  dashboardRoutes(app, admin.token, admin.dashboard);
}

function baseApp(): Hono<RequestIdEnv> {
  const app = new Hono<RequestIdEnv>();
  app.use(requestId());
  return app;
}

function withErrorReplies(app: Hono<RequestIdEnv>, log: Logger): Hono<RequestIdEnv> {
  app.notFound((c) =>
    toResponse(errorReply(errors.routeNotFound(c.req.method, c.req.path)), {
      "x-request-id": c.get("requestId"),
    }),
  );
  app.onError((err, c) => {
    const reply = replyForError(err, log, c.req.path);
    return toResponse(reply, { "x-request-id": c.get("requestId") ?? "" });
  });
  return app;
}

type CallBase = Pick<IncomingCall, "requestId" | "signal" | "header" | "headerValues" | "clientAddress">;

function callBase(c: Context<RequestIdEnv>): CallBase {
  return { requestId: c.get("requestId"), signal: c.req.raw.signal, ...requestContext(c.env.incoming) };
}
