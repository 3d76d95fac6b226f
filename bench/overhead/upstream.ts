/**
 * The fast upstream: just enough of llama-server for the gateway to route to it, answering at once so
 * that everything measured above it is proxy overhead. Runs as its own process (pinned by the
 * orchestrator); prints `{"url":...}` on stdout when listening.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HOLD_USER, MODEL } from "./protocol.js";

/** High, so that the gateway's routing never sees the node as saturated, even with 5,000 streams. */
const TOTAL_SLOTS = 8192;
/** A held stream ends on its own after this long, so a lost client never leaks it past the run. */
const HOLD_LIMIT_MS = 180_000;

const COMPLETION = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 0,
  model: MODEL,
  choices: [{ index: 0, message: { role: "assistant", content: "Hi!" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
  timings: { prompt_n: 9, prompt_ms: 1.2, predicted_n: 2, predicted_ms: 3.4 },
});
const TOKEN_EVENT = `data: ${JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion.chunk",
  created: 0,
  model: MODEL,
  choices: [{ index: 0, delta: { content: "tok" }, finish_reason: null }],
})}\n\n`;
const LAST_EVENT = `data: ${JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion.chunk",
  created: 0,
  model: MODEL,
  choices: [{ index: 0, delta: {}, finish_reason: "length" }],
  usage: { prompt_tokens: 9, completion_tokens: 50, total_tokens: 59 },
})}\n\ndata: [DONE]\n\n`;

const STATIC: Readonly<Record<string, readonly [number, string]>> = {
  "/health": [200, '{"status":"ok"}'],
  "/v1/models": [200, JSON.stringify({ object: "list", data: [{ id: MODEL, object: "model", created: 0 }] })],
  "/props": [200, JSON.stringify({ total_slots: TOTAL_SLOTS })],
  // As llama-server without --slots / --metrics: the prober then relies on /props alone.
  "/slots": [501, '{"error":{"message":"slots endpoint disabled"}}'],
  "/metrics": [501, '{"error":{"message":"metrics disabled"}}'],
};

const OTLP_PATHS = new Set(["/v1/traces", "/v1/metrics"]);

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

interface StreamRequest {
  readonly chunks: number;
  readonly hold: boolean;
}

function readStreamRequest(body: string): StreamRequest | undefined {
  const parsed = JSON.parse(body) as { stream?: boolean; max_tokens?: number; user?: string };
  if (parsed.stream !== true) return undefined;
  return { chunks: Math.max(1, parsed.max_tokens ?? 1), hold: parsed.user === HOLD_USER };
}

/**
 * One event per write, with a turn of the event loop between writes, so the events reach the
 * gateway as separate reads the way tokens from llama-server do, rather than as one coalesced blob.
 */
function streamEvents(res: ServerResponse, request: StreamRequest): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  if (request.hold) {
    res.write(TOKEN_EVENT);
    const limit = setTimeout(() => res.end(LAST_EVENT), HOLD_LIMIT_MS);
    res.on("close", () => clearTimeout(limit));
    return;
  }
  let sent = 0;
  const next = () => {
    if (res.destroyed) return;
    if (sent === request.chunks) {
      res.end(LAST_EVENT);
      return;
    }
    sent += 1;
    res.write(TOKEN_EVENT);
    setImmediate(next);
  };
  next();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const fixed = req.method === "GET" ? STATIC[req.url ?? ""] : undefined;
  if (fixed) {
    send(res, fixed[0], fixed[1]);
    return;
  }
  if (req.method === "POST" && OTLP_PATHS.has(req.url ?? "")) {
    // The telemetry target's OTLP receiver: an empty body is a valid (protobuf) export response.
    req.resume();
    req.on("end", () => send(res, 200, ""));
    return;
  }
  if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
    send(res, 404, "{}");
    return;
  }
  const parts: Buffer[] = [];
  req.on("data", (part: Buffer) => parts.push(part));
  req.on("end", () => {
    const streamed = readStreamRequest(Buffer.concat(parts).toString("utf8"));
    if (streamed) streamEvents(res, streamed);
    else send(res, 200, COMPLETION);
  });
}

const server = createServer({ keepAliveTimeout: 60_000 }, handle);
// Thousands of connections may arrive at once in the open-streams test.
server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
