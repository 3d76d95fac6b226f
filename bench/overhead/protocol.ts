/** What the orchestrator, the load generator and the fast upstream agree on. */

export const MODEL = "bench";
/** The upstream keeps a stream with this `user` open after its first chunk until the client leaves. */
export const HOLD_USER = "hold-open";
export const CHAT_PATH = "/v1/chat/completions";
/** Every bench request carries this key: the open gateway, nginx and the upstream ignore it. */
export const BENCH_API_KEY = "bench-api-key-0123456789abcdef";

/** Request bodies; the chunk count travels as max_tokens because the gateway forwards the body as is. */
export function chatBody(mode: { stream: false } | { stream: true; chunks: number; hold?: boolean }): string {
  const base = { model: MODEL, messages: [{ role: "user", content: "Say hi" }] };
  if (!mode.stream) return JSON.stringify({ ...base, max_tokens: 16 });
  return JSON.stringify({
    ...base,
    stream: true,
    max_tokens: mode.chunks,
    ...(mode.hold ? { user: HOLD_USER } : {}),
  });
}

/** Closed loop: `concurrency` workers, each sending its next request when the last one ends. */
export interface ClosedCommand {
  readonly type: "closed";
  readonly url: string;
  readonly concurrency: number;
  readonly requests: number;
}

/** Open loop: requests leave on a fixed schedule whatever the latency (no coordinated omission). */
export interface OpenCommand {
  readonly type: "open";
  readonly url: string;
  readonly rate: number;
  readonly durationMs: number;
}

/**
 * A closed loop over two targets at once, request by request in turn, so that both see the same
 * machine at the same moments: on a shared machine two runs one after the other differ by more
 * than what a feature costs.
 */
export interface PairedCommand {
  readonly type: "paired";
  readonly urls: readonly [string, string];
  readonly concurrency: number;
  /** Requests per target. */
  readonly requests: number;
}

/** Streams in a closed loop: chunks relayed per second and time to first chunk. */
export interface StreamsCommand {
  readonly type: "streams";
  readonly url: string;
  readonly concurrency: number;
  readonly chunks: number;
  readonly durationMs: number;
}

/** Opens `count` streams that stay open; they are released by a `release` command. */
export interface HoldCommand {
  readonly type: "hold";
  readonly url: string;
  readonly count: number;
  readonly batch: number;
  readonly timeoutMs: number;
}

export interface ReleaseCommand {
  readonly type: "release";
}

export type LoadCommand =
  | ClosedCommand
  | PairedCommand
  | OpenCommand
  | StreamsCommand
  | HoldCommand
  | ReleaseCommand;

export interface LatencyResult {
  readonly type: "latency";
  readonly completed: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Open loop only: requests never sent because too many were already waiting. */
  readonly shed: number;
}

export interface StreamsResult {
  readonly type: "streams";
  readonly streams: number;
  readonly chunks: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly ttftP50Ms: number;
  readonly ttftP99Ms: number;
}

export interface HoldResult {
  readonly type: "hold";
  readonly opened: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly firstError: string | undefined;
}

export interface ReleasedResult {
  readonly type: "released";
}

export interface PairedResult {
  readonly type: "paired";
  /** Requests answered, per target. */
  readonly completed: readonly [number, number];
  readonly errors: number;
}

export type LoadResult = LatencyResult | PairedResult | StreamsResult | HoldResult | ReleasedResult;
