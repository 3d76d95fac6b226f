import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";
import { errors } from "../errors.js";
import { errorReply } from "../gateway/index.js";
import type { CorsPolicy } from "./cors.js";
import { handleProxied, type ProxyDeps, proxiedRoute } from "./proxy-handler.js";
import { type RequestIdEnv, requestIdOf } from "./request-id.js";
import { normalizeRequestTarget } from "./request-path.js";
import { writeReply } from "./write-reply.js";

export interface HttpServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, waits for open responses to end, then resolves. */
  close(): Promise<void>;
  /** Ends every open connection at once. */
  closeAllConnections(): void;
}

/** What one client may hold of the server: none of these bound the response, which may stream for minutes. */
export interface ServerLimits {
  /** The request line and headers must have arrived within this (slowloris). */
  readonly headersTimeoutMs: number;
  /** The whole request, headers and body, must have arrived within this (a body trickled in). */
  readonly bodyTimeoutMs: number;
  /** A keep-alive connection with no request in progress is closed after this. */
  readonly idleTimeoutMs: number;
  /** Connections beyond this are closed as soon as they are accepted. */
  readonly maxConnections: number;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly limits: ServerLimits;
  /** CORS for the API's browser clients; none on the admin listener, whose dashboard is same-origin. */
  readonly cors?: CorsPolicy | undefined;
}

/**
 * Node checks the header and body deadlines on a timer (30 s by default, which let a slowloris
 * connection live 90 s): a tenth of the header deadline keeps them within 10% of what was configured.
 */
function checkingIntervalMs(limits: ServerLimits): number {
  return Math.min(1000, Math.max(10, Math.floor(limits.headersTimeoutMs / 10)));
}

/**
 * One server: the proxied POSTs on the Node fast path, everything else through the Hono app. Both
 * route the normalised path, so a spelling like `/v1/../admin` lands where a front proxy thinks it does.
 */
export function listen(
  app: Hono<RequestIdEnv>,
  /** Undefined for a listener without the API (the admin one): every path then goes to Hono. */
  proxy: ProxyDeps | undefined,
  { host, port, limits, cors }: ListenOptions,
): Promise<HttpServer> {
  const viaHono = getRequestListener(app.fetch);
  const options = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.bodyTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs(limits),
  };
  const server = createServer(options, (req, res) => {
    const target = normalizeRequestTarget(req.url ?? "");
    if (!target.ok) {
      refuse(req, res, target.reason);
      return;
    }
    req.url = target.url;
    if (cors?.apply(req, res)) return;
    const route = proxy && proxiedRoute(req.method, req.url);
    if (route) void handleProxied(route, req, res, proxy);
    else void viaHono(req, res);
  });
  server.maxConnections = limits.maxConnections;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address() as AddressInfo;
      const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
      resolve({
        url: `http://${shownHost}:${bound}`,
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
        closeAllConnections: () => server.closeAllConnections(),
      });
    });
  });
}

function refuse(req: IncomingMessage, res: ServerResponse, reason: string): void {
  const given = req.headers["x-request-id"];
  const requestId = requestIdOf(Array.isArray(given) ? given[0] : given);
  void writeReply(res, errorReply(errors.invalidPath(reason)), { "x-request-id": requestId });
}
