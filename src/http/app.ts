import { Hono } from "hono";
import { errors, GatewayError, toGatewayError } from "../errors.js";
import type { FleetRegistry } from "../fleet/index.js";
import type { Gateway } from "../gateway/index.js";
import { errorReply } from "../gateway/index.js";
import type { EndpointKind } from "../openai/index.js";
import type { Logger } from "../telemetry/index.js";
import { nodeReport } from "./admin.js";
import { readJsonBody } from "./body.js";
import { toResponse } from "./render.js";
import { type RequestIdEnv, requestId } from "./request-id.js";

export interface AppDeps {
  readonly gateway: Gateway;
  readonly registry: FleetRegistry;
  readonly bodyLimitBytes: number;
  readonly log: Logger;
}

const PROXIED: ReadonlyArray<readonly [string, EndpointKind]> = [
  ["/v1/chat/completions", "chat"],
  ["/v1/completions", "completions"],
  ["/v1/embeddings", "embeddings"],
];

export function createApp(deps: AppDeps): Hono<RequestIdEnv> {
  const app = new Hono<RequestIdEnv>();
  app.use(requestId());

  for (const [path, kind] of PROXIED) {
    app.post(path, async (c) => {
      const body = await readJsonBody(c.env.incoming, deps.bodyLimitBytes);
      const requestId = c.get("requestId");
      const reply = await deps.gateway.handle({
        kind,
        json: body.json,
        rawBody: body.raw,
        requestId,
        signal: c.req.raw.signal,
        header: (name) => c.req.header(name),
      });
      return toResponse(reply, { "x-request-id": requestId });
    });
  }

  app.get("/v1/models", (c) => toResponse(deps.gateway.models(), { "x-request-id": c.get("requestId") }));
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
    const error = toGatewayError(err);
    if (!(err instanceof GatewayError))
      deps.log.error("unhandled error", { error: String(err), path: c.req.path });
    return toResponse(errorReply(error), { "x-request-id": c.get("requestId") ?? "" });
  });
  return app;
}
