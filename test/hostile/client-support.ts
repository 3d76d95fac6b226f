import { type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from "node:http";
import { connect, type Socket } from "node:net";
import { createLogger, type Logger } from "../../src/telemetry/index.js";

/** What a raw connection saw: the server's bytes, and when (if at all) the server closed it. */
export interface RawOutcome {
  readonly received: string;
  /** Milliseconds from connecting to the server closing; undefined when still open at the deadline. */
  readonly closedAfterMs: number | undefined;
  /** Bytes the client managed to write before the end. */
  readonly sentBytes: number;
}

/**
 * Opens a plain TCP connection to `url`'s host, lets `drive` write to it as a hostile client would,
 * and waits until the server closes it or `waitMs` passes (then the client closes it).
 */
export function rawConnection(
  url: string,
  drive: (socket: Socket) => void,
  waitMs: number,
  localAddress?: string,
): Promise<RawOutcome> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: hostname, port: Number(port), ...(localAddress ? { localAddress } : {}) });
    let received = "";
    let closedAfterMs: number | undefined;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    const deadline = setTimeout(() => socket.destroy(), waitMs);
    socket.on("close", () => {
      clearTimeout(deadline);
      resolve({ received, closedAfterMs, sentBytes: socket.bytesWritten });
    });
    socket.on("end", () => {
      closedAfterMs ??= performance.now() - started;
    });
    // A reset is one way for the server to close.
    socket.on("error", () => {
      closedAfterMs ??= performance.now() - started;
    });
    socket.on("connect", () => drive(socket));
  });
}

/** Writes `text` one piece at a time, every `everyMs`, until it runs out or the connection ends. */
export function trickle(socket: Socket, text: string | (() => string), everyMs: number): void {
  let offset = 0;
  const next = typeof text === "string" ? () => text.charAt(offset++) : text;
  const timer = setInterval(() => {
    const piece = next();
    if (socket.destroyed || !socket.writable || piece === "") clearInterval(timer);
    else socket.write(piece);
  }, everyMs);
  socket.on("close", () => clearInterval(timer));
}

export interface SentRequest {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface SendOptions {
  readonly method?: string;
  /** An array value is sent as that many header lines. */
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: unknown;
  /** The client's own address (any of 127.0.0.0/8 on loopback), to look like another client. */
  readonly localAddress?: string;
}

/** One request over node:http, which can repeat a header and pick the client's address, as fetch cannot. */
export function send(url: string, options: SendOptions = {}): Promise<SentRequest> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      agent: false,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...options.headers },
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on("error", reject);
    });
    req.end(body);
  });
}

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A debug-level logger that keeps its lines for the test to read. */
export function recordingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger("debug", (line) => {
    lines.push(JSON.parse(line) as LogLine);
  });
  return { log, lines };
}

export const chat = (extra: Record<string, unknown> = {}) => ({
  model: "tiny",
  messages: [{ role: "user", content: "hello" }],
  max_tokens: 4,
  ...extra,
});
