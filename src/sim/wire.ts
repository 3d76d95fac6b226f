import type { IncomingMessage, ServerResponse } from "node:http";

/** An error llama-server would answer with, in its own envelope `{"error":{code,message,type}}`. */
export class LlamaError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, number> = {},
  ) {
    super(message);
    this.name = "LlamaError";
  }

  body(): { error: Record<string, string | number> } {
    return { error: { code: this.status, message: this.message, type: this.type, ...this.extra } };
  }
}

export const llamaErrors = {
  invalidRequest: (message: string) => new LlamaError(400, "invalid_request_error", message),
  unauthorized: () => new LlamaError(401, "authentication_error", "Invalid API Key"),
  notFound: () => new LlamaError(404, "not_found_error", "File Not Found"),
  server: (message: string) => new LlamaError(500, "server_error", message),
  notSupported: (message: string) => new LlamaError(501, "not_supported_error", message),
  loading: () => new LlamaError(503, "unavailable_error", "Loading model"),
  noInfill: () =>
    new LlamaError(
      501,
      "not_supported_error",
      "Infill is not supported by this model: prefix token is missing. suffix token is missing. middle token is missing. ",
    ),
  noSlot: () => new LlamaError(503, "unavailable_error", "no slot available"),
  exceedContext: (nPromptTokens: number, nCtx: number) =>
    new LlamaError(
      400,
      "exceed_context_size_error",
      `request (${nPromptTokens} tokens) exceeds the available context size (${nCtx} tokens), try increasing it`,
      { n_prompt_tokens: nPromptTokens, n_ctx: nCtx },
    ),
} as const;

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // llama-server lets nlohmann::json's parse_error escape to its generic handler: 500, not 400.
    throw llamaErrors.server(`[json.exception.parse_error.101] parse error: ${(err as Error).message}`);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const TRICKLE_INTERVAL_MS = 50;

/**
 * A response body that can trickle its bytes at a fixed rate (the slow-node fault); without a rate,
 * writes go straight to the socket. `flushed()` resolves once every byte written so far has reached
 * the kernel, which is what lets a fault cut the connection after an exact amount of output.
 */
export class Outgoing {
  private pending: Buffer[] = [];
  private ending = false;
  private timer: NodeJS.Timeout | undefined;
  private lastWrite: Promise<void> = Promise.resolve();
  private idle: (() => void) | undefined;
  private readonly closed: Promise<void>;

  constructor(
    readonly res: ServerResponse,
    private readonly bytesPerSecond: number | null,
  ) {
    this.closed = new Promise((resolve) =>
      res.once("close", () => {
        this.stopTrickle();
        this.pending = [];
        this.wakeIdle();
        resolve();
      }),
    );
  }

  head(status: number, headers: Record<string, string | number>): void {
    if (!this.res.headersSent) this.res.writeHead(status, headers);
  }

  write(text: string): void {
    if (this.res.destroyed) return;
    if (this.bytesPerSecond === null) {
      this.send(text);
      return;
    }
    this.pending.push(Buffer.from(text));
    this.timer ??= setInterval(() => this.trickle(), TRICKLE_INTERVAL_MS);
  }

  end(): void {
    this.ending = true;
    if (this.timer === undefined) this.res.end();
  }

  /**
   * Resolves when the trickle queue is empty and the socket has accepted the last write (Node calls a
   * write's callback only after handing its bytes to the OS, however the response was corked or
   * buffered), or when the connection is gone.
   */
  async flushed(): Promise<void> {
    if (this.pending.length > 0 && !this.res.destroyed) {
      await new Promise<void>((resolve) => {
        this.idle = resolve;
      });
    }
    // Writes still buffered when the connection dies may never call back.
    await Promise.race([this.lastWrite, this.closed]);
  }

  private send(chunk: string | Buffer): void {
    this.lastWrite = new Promise((resolve) => {
      this.res.write(chunk, () => resolve());
    });
  }

  private trickle(): void {
    let budget = Math.max(1, Math.floor(((this.bytesPerSecond ?? 0) * TRICKLE_INTERVAL_MS) / 1000));
    while (budget > 0 && this.pending.length > 0) {
      const head = this.pending[0] as Buffer;
      const take = head.subarray(0, budget);
      this.send(take);
      budget -= take.length;
      if (take.length === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(take.length);
    }
    if (this.pending.length === 0) {
      this.stopTrickle();
      this.wakeIdle();
      if (this.ending) this.res.end();
    }
  }

  private wakeIdle(): void {
    const idle = this.idle;
    this.idle = undefined;
    idle?.();
  }

  private stopTrickle(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export interface JsonSendOptions {
  bytesPerSecond?: number | null;
  /** Cut the serialised body in half: valid HTTP, invalid JSON. */
  malformed?: boolean;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  options: JsonSendOptions = {},
): void {
  const full = JSON.stringify(body);
  const text = options.malformed ? mangle(full) : full;
  const out = new Outgoing(res, options.bytesPerSecond ?? null);
  out.head(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  out.write(text);
  out.end();
}

/** Half of a serialised JSON value: what a client sees when a node emits garbage. */
export function mangle(json: string): string {
  return json.slice(0, Math.ceil(json.length / 2));
}

const FLOOD_CHUNK = Buffer.alloc(64 * 1024, "a");

/**
 * The hostile-node faults: `prefix`, then `a` bytes as fast as the client takes them (waiting for
 * the socket to drain, so the sim's own memory stays flat), `bytes` in all, then `suffix` and the
 * end. Stops early when the client goes away.
 */
export async function flood(res: ServerResponse, prefix: string, bytes: number, suffix = ""): Promise<void> {
  let left = bytes - Buffer.byteLength(prefix) - Buffer.byteLength(suffix);
  res.write(prefix);
  while (left > 0 && !res.destroyed) {
    const piece = left >= FLOOD_CHUNK.length ? FLOOD_CHUNK : FLOOD_CHUNK.subarray(0, left);
    left -= piece.length;
    if (!res.write(piece)) await drainedOrClosed(res);
  }
  if (!res.destroyed) res.end(suffix);
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * llama-server's 501 for a feature the server was not started with (`--embeddings`, `--reranking`);
 * true when it answered so, and the handler is done.
 */
export function refusedUnsupported(
  enabled: boolean,
  res: ServerResponse,
  feature: string,
  flag: string,
): boolean {
  if (enabled) return false;
  sendError(
    res,
    llamaErrors.notSupported(`This server does not support ${feature}. Start it with \`${flag}\``),
  );
  return true;
}

export function sendError(res: ServerResponse, error: LlamaError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, error.body());
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
