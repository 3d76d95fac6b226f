import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";
import { handleProxied, type ProxyDeps, proxiedKind } from "./proxy-handler.js";
import type { RequestIdEnv } from "./request-id.js";

export interface HttpServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, waits for open responses to end, then resolves. */
  close(): Promise<void>;
  /** Ends every open connection at once. */
  closeAllConnections(): void;
}

/** One server: the proxied POSTs on the Node fast path, everything else through the Hono app. */
export function listen(
  app: Hono<RequestIdEnv>,
  proxy: ProxyDeps,
  host: string,
  port: number,
): Promise<HttpServer> {
  const viaHono = getRequestListener(app.fetch);
  const server = createServer((req, res) => {
    const kind = proxiedKind(req.method, req.url);
    if (kind) void handleProxied(kind, req, res, proxy);
    else void viaHono(req, res);
  });
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
