/** Streamed load: relayed chunks per second with time to first chunk, and many streams held open. */
import type { Dispatcher } from "undici";
import { Pool } from "undici";
import { poolFor } from "./load-requests.js";
import {
  BENCH_API_KEY,
  CHAT_PATH,
  chatBody,
  type HoldCommand,
  type HoldResult,
  type StreamsCommand,
  type StreamsResult,
} from "./protocol.js";
import { Samples } from "./stats.js";

const HEADERS = {
  authorization: `Bearer ${BENCH_API_KEY}`,
  "content-type": "application/json",
  accept: "text/event-stream",
};
const NEWLINE = 0x0a;

/** Counts SSE events (blank-line terminated) across chunk boundaries. */
class EventCounter {
  events = 0;
  private lastWasNewline = false;

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const isNewline = chunk[i] === NEWLINE;
      if (isNewline && this.lastWasNewline) this.events += 1;
      this.lastWasNewline = isNewline;
    }
  }
}

function openStream(pool: Dispatcher, body: string, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
  return pool.request({ method: "POST", path: CHAT_PATH, headers: HEADERS, body, signal: signal ?? null });
}

/** Closed loop of streams: each worker reads one stream to its end, then opens the next. */
export async function streamLoop(command: StreamsCommand): Promise<StreamsResult> {
  const pool = poolFor(command.url, command.concurrency);
  const body = chatBody({ stream: true, chunks: command.chunks });
  const ttft = new Samples();
  let chunks = 0;
  let streams = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + command.durationMs;
  const readOne = async () => {
    const t0 = performance.now();
    const res = await openStream(pool, body);
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    const counter = new EventCounter();
    let first = true;
    for await (const part of res.body as AsyncIterable<Buffer>) {
      if (first) ttft.add(performance.now() - t0);
      first = false;
      counter.push(part);
    }
    chunks += counter.events;
    streams += 1;
  };
  const worker = async () => {
    while (performance.now() < deadline) {
      await readOne().catch(() => {
        errors += 1;
      });
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, worker));
  const [ttftP50Ms = Number.NaN, ttftP99Ms = Number.NaN] = ttft.percentiles(50, 99);
  return {
    type: "streams",
    streams,
    chunks,
    errors,
    elapsedMs: performance.now() - start,
    ttftP50Ms,
    ttftP99Ms,
  };
}

interface HeldStreams {
  readonly pool: Pool;
  readonly abort: AbortController;
}

let held: HeldStreams | undefined;

/** Opens streams in batches (a burst of thousands of connects overflows accept backlogs) and keeps them. */
export async function holdStreams(command: HoldCommand): Promise<HoldResult> {
  await releaseStreams();
  const pool = new Pool(command.url, { connections: command.count, pipelining: 1 });
  const abort = new AbortController();
  held = { pool, abort };
  const body = chatBody({ stream: true, chunks: 1, hold: true });
  const giveUp = setTimeout(() => abort.abort(new Error("timed out opening streams")), command.timeoutMs);
  let opened = 0;
  let failed = 0;
  let firstError: string | undefined;
  const openOne = async () => {
    const res = await openStream(pool, body, abort.signal);
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    // Opened once the first chunk is through; the body then stays unread until release.
    await new Promise<void>((resolve, reject) => {
      res.body.once("data", () => resolve());
      res.body.once("error", reject);
      res.body.once("end", () => reject(new Error("stream ended early")));
    });
  };
  const start = performance.now();
  for (let begun = 0; begun < command.count && !abort.signal.aborted; begun += command.batch) {
    const size = Math.min(command.batch, command.count - begun);
    const outcomes = await Promise.allSettled(Array.from({ length: size }, openOne));
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") opened += 1;
      else {
        failed += 1;
        firstError ??= String(outcome.reason);
      }
    }
  }
  clearTimeout(giveUp);
  failed = command.count - opened;
  return { type: "hold", opened, failed, elapsedMs: performance.now() - start, firstError };
}

export async function releaseStreams(): Promise<void> {
  if (!held) return;
  const { pool, abort } = held;
  held = undefined;
  abort.abort();
  await pool.destroy();
}
