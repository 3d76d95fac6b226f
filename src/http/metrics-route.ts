import type { Hono } from "hono";
import type { PrometheusScrape } from "../telemetry/index.js";
import { adminToken } from "./admin-routes.js";
import type { RequestIdEnv } from "./request-id.js";

export interface MetricsDeps {
  readonly prometheus: PrometheusScrape;
  /** Without the admin token: for a scraper on a network only operators reach. */
  readonly public: boolean;
  readonly token: string | undefined;
}

/** `GET /metrics` in Prometheus' text format; it names nodes and models, so it is the admin's unless made public. */
export function metricsRoute(app: Hono<RequestIdEnv>, deps: MetricsDeps): void {
  if (!deps.public) app.use("/metrics", adminToken(deps.token));
  app.get("/metrics", async (c) =>
    c.body(await deps.prometheus.scrape(), 200, { "content-type": deps.prometheus.contentType }),
  );
}
