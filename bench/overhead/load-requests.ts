/** Non-streamed load: closed loop (latency at fixed concurrency) and open loop (latency at a fixed rate). */
import { Pool } from "undici";
import {
  BENCH_API_KEY,
  CHAT_PATH,
  type ClosedCommand,
  chatBody,
  type LatencyResult,
  type OpenCommand,
  type PairedCommand,
  type PairedResult,
} from "./protocol.js";
import { Samples } from "./stats.js";

/** Beyond this many requests waiting, an open-loop step is overloaded: the rest are shed, not queued. */
const MAX_IN_FLIGHT = 4096;
/** Requests still out this long after an open-loop step ends are abandoned. */
const DRAIN_LIMIT_MS = 10_000;
const OPEN_LOOP_CONNECTIONS = 512;

const UNARY_BODY = chatBody({ stream: false });
const HEADERS = { authorization: `Bearer ${BENCH_API_KEY}`, "content-type": "application/json" };

/** Pools stay open across commands, so each measurement starts on warm keep-alive connections. */
const pools = new Map<string, Pool>();

export function poolFor(url: string, connections: number): Pool {
  const key = `${url} ${connections}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
    pools.set(key, pool);
  }
  return pool;
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.destroy()));
}

/** One request; resolves true when it got a 200 and its whole body. */
async function unary(pool: Pool, signal?: AbortSignal): Promise<boolean> {
  const res = await pool.request({
    method: "POST",
    path: CHAT_PATH,
    headers: HEADERS,
    body: UNARY_BODY,
    signal: signal ?? null,
  });
  await res.body.arrayBuffer();
  return res.statusCode === 200;
}

function latencyResult(samples: Samples, errors: number, elapsedMs: number, shed = 0): LatencyResult {
  const [p50Ms = Number.NaN, p99Ms = Number.NaN] = samples.percentiles(50, 99);
  return { type: "latency", completed: samples.count, errors, elapsedMs, p50Ms, p99Ms, shed };
}

export async function closedLoop(command: ClosedCommand): Promise<LatencyResult> {
  const pool = poolFor(command.url, command.concurrency);
  const samples = new Samples(command.requests);
  let started = 0;
  let errors = 0;
  const worker = async () => {
    while (started < command.requests) {
      started += 1;
      const t0 = performance.now();
      const ok = await unary(pool).catch(() => false);
      if (ok) samples.add(performance.now() - t0);
      else errors += 1;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: command.concurrency }, worker));
  return latencyResult(samples, errors, performance.now() - t0);
}

export async function pairedLoop(command: PairedCommand): Promise<PairedResult> {
  const pools = command.urls.map((url) => poolFor(url, command.concurrency));
  const completed: [number, number] = [0, 0];
  let started = 0;
  let errors = 0;
  const worker = async () => {
    while (started < command.requests * 2) {
      const turn = (started % 2) as 0 | 1;
      started += 1;
      if (await unary(pools[turn] as Pool).catch(() => false)) completed[turn] += 1;
      else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, worker));
  return { type: "paired", completed, errors };
}

/**
 * Sends at `rate` per second on a 1 ms timer, timing each request from when it was due rather than
 * when it left, so a generator or gateway that falls behind shows up as latency.
 */
export async function openLoop(command: OpenCommand): Promise<LatencyResult> {
  const pool = poolFor(command.url, OPEN_LOOP_CONNECTIONS);
  const expected = Math.ceil((command.rate * command.durationMs) / 1000);
  const samples = new Samples(expected);
  const abandon = new AbortController();
  let sent = 0;
  let shed = 0;
  let errors = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  const fire = (dueAt: number) => {
    inFlight += 1;
    const done = unary(pool, abandon.signal)
      .catch(() => false)
      .then((ok) => {
        inFlight -= 1;
        if (ok) samples.add(performance.now() - dueAt);
        else errors += 1;
        pending.delete(done);
      });
    pending.add(done);
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(expected, Math.floor(((now - start) * command.rate) / 1000));
      for (; sent < due; sent++) {
        if (inFlight >= MAX_IN_FLIGHT) shed += 1;
        else fire(start + (sent * 1000) / command.rate);
      }
      if (sent >= expected) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const drainLimit = setTimeout(() => abandon.abort(), DRAIN_LIMIT_MS);
  await Promise.all(pending);
  clearTimeout(drainLimit);
  return latencyResult(samples, errors, performance.now() - start, shed);
}
