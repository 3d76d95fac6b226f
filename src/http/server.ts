import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { RequestIdEnv } from "./request-id.js";

export interface HttpServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, waits for open responses to end, then resolves. */
  close(): Promise<void>;
  /** Ends every open connection at once. */
  closeAllConnections(): void;
}

export function listen(app: Hono<RequestIdEnv>, host: string, port: number): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ("closeIdleConnections" in server) server.closeIdleConnections();
          }),
        closeAllConnections: () => {
          if ("closeAllConnections" in server) server.closeAllConnections();
        },
      });
    });
    server.once("error", reject);
  });
}
