import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { handleCompletion } from "./completion.js";
import { SimContext, type SimStats } from "./context.js";
import { handleHealth, handleMetrics, handleModels, handleProps, handleSlots } from "./info.js";
import { type FaultConfig, type ResolvedOptions, resolveOptions, type SimNodeOptions } from "./options.js";
import { handleRerank } from "./rerank.js";
import { handleApplyTemplate, handleDetokenize, handleEmbeddings, handleTokenize } from "./utility.js";
import { LlamaError, llamaErrors, readJson, sendError, sendJson } from "./wire.js";

export interface SimNode {
  readonly url: string;
  readonly port: number;
  readonly options: Readonly<ResolvedOptions>;
  /** Replaces the given faults at run time; the others keep their values. */
  setFaults(faults: Partial<FaultConfig>): void;
  stats(): SimStats;
  /** Graceful: stop accepting, let running requests finish (requests held by a hang fault are cut). */
  close(): Promise<void>;
  /** Like kill -9: destroy every socket now and stop listening. */
  kill(): void;
}

type Handler = (ctx: SimContext, req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

const ROUTES: Record<string, Handler> = {
  "GET /health": (ctx, _req, res) => handleHealth(ctx, res),
  "GET /v1/health": (ctx, _req, res) => handleHealth(ctx, res),
  "GET /models": (ctx, _req, res) => handleModels(ctx, res),
  "GET /v1/models": (ctx, _req, res) => handleModels(ctx, res),
  "GET /props": (ctx, _req, res) => handleProps(ctx, res),
  "GET /slots": (ctx, _req, res, url) => handleSlots(ctx, res, url),
  "GET /metrics": (ctx, _req, res) => handleMetrics(ctx, res),
  "POST /v1/chat/completions": (ctx, req, res) => handleCompletion(ctx, req, res, "chat"),
  "POST /chat/completions": (ctx, req, res) => handleCompletion(ctx, req, res, "chat"),
  "POST /v1/completions": (ctx, req, res) => handleCompletion(ctx, req, res, "text"),
  "POST /completions": (ctx, req, res) => handleCompletion(ctx, req, res, "text"),
  "POST /v1/responses": (ctx, req, res) => handleCompletion(ctx, req, res, "responses"),
  "POST /responses": (ctx, req, res) => handleCompletion(ctx, req, res, "responses"),
  "POST /v1/messages": (ctx, req, res) => handleCompletion(ctx, req, res, "messages"),
  "POST /infill": (ctx, req, res) => handleCompletion(ctx, req, res, "infill"),
  "POST /v1/rerank": (ctx, req, res) => handleRerank(ctx, req, res),
  "POST /v1/reranking": (ctx, req, res) => handleRerank(ctx, req, res),
  "POST /rerank": (ctx, req, res) => handleRerank(ctx, req, res),
  "POST /reranking": (ctx, req, res) => handleRerank(ctx, req, res),
  "POST /v1/embeddings": (ctx, req, res) => handleEmbeddings(ctx, req, res),
  "POST /embeddings": (ctx, req, res) => handleEmbeddings(ctx, req, res),
  "POST /tokenize": (ctx, req, res) => handleTokenize(ctx, req, res),
  "POST /detokenize": (ctx, req, res) => handleDetokenize(ctx, req, res),
  "POST /apply-template": (_ctx, req, res) => handleApplyTemplate(req, res),
};

/** The sim's own admin routes: not llama-server's, so no faults, loading, auth or rtt apply to them. */
const ADMIN_ROUTES: Record<string, Handler> = {
  "GET /sim/stats": (ctx, _req, res) => sendJson(res, 200, ctx.stats()),
  "POST /sim/faults": async (ctx, req, res) => {
    ctx.setFaults(await readJson(req));
    sendJson(res, 200, ctx.faults);
  },
};

/** Routes llama-server answers while loading and without an API key. */
const MODEL_LIST_PATHS = new Set(["/models", "/v1/models"]);
const PUBLIC_PATHS = new Set(["/health", "/v1/health", "/models", "/v1/models"]);

async function route(ctx: SimContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  ctx.requestsTotal += 1;
  const url = new URL(req.url ?? "/", "http://sim.invalid");
  const key = `${req.method ?? "GET"} ${url.pathname}`;
  const admin = ADMIN_ROUTES[key];
  if (admin) return admin(ctx, req, res, url);
  if (ctx.options.rttMs > 0) await sleep(ctx.options.rttMs);
  if (ctx.isLoading() && !MODEL_LIST_PATHS.has(url.pathname)) throw llamaErrors.loading();
  if (
    ctx.options.apiKey !== undefined &&
    !PUBLIC_PATHS.has(url.pathname) &&
    !hasApiKey(req, ctx.options.apiKey)
  ) {
    throw llamaErrors.unauthorized();
  }
  const handler = ROUTES[key];
  if (!handler) throw llamaErrors.notFound();
  return handler(ctx, req, res, url);
}

function hasApiKey(req: IncomingMessage, apiKey: string): boolean {
  const bearer = req.headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  return bearer === apiKey || req.headers["x-api-key"] === apiKey;
}

export async function startSimNode(options: SimNodeOptions = {}): Promise<SimNode> {
  const resolved = Object.freeze(resolveOptions(options));
  const ctx = new SimContext(resolved);
  const sockets = new Set<Socket>();
  let closing = false;
  const server = createServer((req, res) => {
    // A request arriving on a kept-alive connection during close() is served, then the connection ends.
    if (closing) res.setHeader("Connection", "close");
    route(ctx, req, res).catch((err: unknown) => {
      if (res.destroyed) return;
      sendError(res, err instanceof LlamaError ? err : llamaErrors.server(String(err)));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = resolved.host.includes(":") ? `[${resolved.host}]` : resolved.host;

  return {
    url: `http://${host}:${port}`,
    port,
    options: resolved,
    setFaults: (faults) => ctx.setFaults(faults),
    stats: () => ctx.stats(),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        for (const stalled of [...ctx.stalled]) stalled.destroy();
        // Keep-alive connections would hold close() open; end each one as soon as it goes idle.
        server.closeIdleConnections();
        const idleSweep = setInterval(() => server.closeIdleConnections(), 20);
        server.once("close", () => clearInterval(idleSweep));
      }),
    kill: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}
