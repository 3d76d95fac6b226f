import { Hono } from "hono";
import { errors } from "../errors.js";
import type { FleetRegistry } from "../fleet/index.js";
import type { Gateway } from "../gateway/index.js";
import { errorReply } from "../gateway/index.js";
import type { Logger } from "../telemetry/index.js";
import { nodeReport } from "./admin.js";
import { replyForError } from "./error-reply.js";
import { toResponse } from "./render.js";
import { type RequestIdEnv, requestId } from "./request-id.js";

export interface AppDeps {
  readonly gateway: Gateway;
  readonly registry: FleetRegistry;
  readonly log: Logger;
}

/** Everything but the proxied POSTs, which the Node fast path in proxy-handler.ts serves. */
export function createApp(deps: AppDeps): Hono<RequestIdEnv> {
  const app = new Hono<RequestIdEnv>();
  app.use(requestId());

  app.get("/v1/models", (c) => toResponse(deps.gateway.models(), { "x-request-id": c.get("requestId") }));
  app.get("/v1/models/:id{.+}", (c) =>
    toResponse(deps.gateway.model(c.req.param("id")), { "x-request-id": c.get("requestId") }),
  );
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
  app.get("/admin/nodes", (c) => c.json({ nodes: deps.registry.all().map(nodeReport) }));

  app.notFound((c) =>
    toResponse(errorReply(errors.routeNotFound(c.req.method, c.req.path)), {
      "x-request-id": c.get("requestId"),
    }),
  );
  app.onError((err, c) => {
    const reply = replyForError(err, deps.log, c.req.path);
    return toResponse(reply, { "x-request-id": c.get("requestId") ?? "" });
  });
  return app;
}
