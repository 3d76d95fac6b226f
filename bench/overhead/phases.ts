/** The measurements, each run once per target per repetition; the orchestrator decides the order. */
import type { ChildProcess } from "node:child_process";
import type { BenchOptions } from "./options.js";
import { cpuMicros, rssBytes } from "./processes.js";
import type {
  HoldResult,
  LatencyResult,
  LoadCommand,
  LoadResult,
  PairedResult,
  StreamsResult,
} from "./protocol.js";

export type TargetName =
  | "direct"
  | "fleetgate"
  | "fleetgate+auth"
  | "fleetgate+redis"
  | "fleetgate+quotas"
  | "fleetgate+telemetry"
  | "nginx";

export interface Target {
  readonly name: TargetName;
  readonly url: string;
  /** The proxy's processes, whose CPU and memory are measured; none for the direct path. */
  readonly pids: () => readonly number[];
}

export type Metric =
  | "c1.p50Ms"
  | "c1.p99Ms"
  | "c1.cpuUsPerReq"
  | "sat.rps"
  | "sat.p99Ms"
  | "sat.cpuUsPerReq"
  | "paired.cpuUsPerReq"
  | "rate.maxRps"
  | "stream.chunksPerSec"
  | "stream.cpuUsPerChunk"
  | "stream.ttftP50Ms"
  | "stream.ttftP99Ms"
  | "hold.opened"
  | "hold.rssIdleMB"
  | "hold.rssMB"
  | "hold.rssAddedMB";

/** Every value measured, by target and metric, one entry per repetition. */
export type Recorded = Partial<Record<TargetName, Partial<Record<Metric, number[]>>>>;

export const P99_BOUND_MS = 10;
const HOLD_BATCH = 250;
const HOLD_TIMEOUT_MS = 90_000;
const MB = 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The load generator process, driven one command at a time. */
export class LoadClient {
  constructor(private readonly child: ChildProcess) {}

  run<T extends LoadResult>(command: LoadCommand): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onExit = () => reject(new Error("load generator exited"));
      this.child.once("exit", onExit);
      this.child.once("message", (result) => {
        this.child.off("exit", onExit);
        resolve(result as T);
      });
      this.child.send(command);
    });
  }
}

export class Phases {
  readonly recorded: Recorded = {};

  constructor(
    private readonly load: LoadClient,
    private readonly options: BenchOptions,
    private readonly progress: (line: string) => void,
  ) {}

  private record(target: Target, metric: Metric, value: number): void {
    const byMetric = this.recorded[target.name] ?? {};
    this.recorded[target.name] = byMetric;
    const runs = byMetric[metric] ?? [];
    byMetric[metric] = runs;
    runs.push(value);
  }

  /** Runs `work` and returns the proxy's CPU time spent meanwhile (NaN for the direct path). */
  private async withCpu<T>(target: Target, work: () => Promise<T>): Promise<[T, number]> {
    const pids = target.pids();
    const before = cpuMicros(pids);
    const result = await work();
    return [result, pids.length === 0 ? Number.NaN : cpuMicros(pids) - before];
  }

  /** JIT warm-up and keep-alive connections, unmeasured. */
  async warmUp(target: Target): Promise<void> {
    const { throughputConcurrency: concurrency } = this.options;
    await this.load.run({ type: "closed", url: target.url, concurrency, requests: 5000 });
    await this.load.run({ type: "closed", url: target.url, concurrency: 1, requests: 500 });
    await this.load.run({ type: "streams", url: target.url, concurrency: 20, chunks: 20, durationMs: 1000 });
  }

  /** Closed loop at concurrency 1 (added latency), then at the throughput concurrency (CPU per request). */
  async requests(target: Target): Promise<number> {
    const url = target.url;
    const [c1, c1Cpu] = await this.withCpu(target, () =>
      this.load.run<LatencyResult>({
        type: "closed",
        url,
        concurrency: 1,
        requests: this.options.latencyRequests,
      }),
    );
    this.record(target, "c1.p50Ms", c1.p50Ms);
    this.record(target, "c1.p99Ms", c1.p99Ms);
    this.record(target, "c1.cpuUsPerReq", c1Cpu / (c1.completed + c1.errors));
    const [sat, satCpu] = await this.withCpu(target, () =>
      this.load.run<LatencyResult>({
        type: "closed",
        url,
        concurrency: this.options.throughputConcurrency,
        requests: this.options.throughputRequests,
      }),
    );
    const rps = (sat.completed / sat.elapsedMs) * 1000;
    this.record(target, "sat.rps", rps);
    this.record(target, "sat.p99Ms", sat.p99Ms);
    this.record(target, "sat.cpuUsPerReq", satCpu / (sat.completed + sat.errors));
    this.progress(
      `${target.name}: c=1 p50 ${c1.p50Ms.toFixed(3)} ms p99 ${c1.p99Ms.toFixed(3)} ms; ` +
        `c=${this.options.throughputConcurrency} ${rps.toFixed(0)} rps` +
        (Number.isFinite(satCpu) ? `, ${(satCpu / sat.completed).toFixed(1)} CPU-µs/req` : "") +
        (sat.errors + c1.errors > 0 ? `, ${sat.errors + c1.errors} errors` : ""),
    );
    return rps;
  }

  /**
   * CPU per request of two gateways loaded at once, request by request in turn (the load generator
   * alternates between them): what one costs more than the other, on the same machine at the same time.
   */
  async paired(first: Target, second: Target): Promise<void> {
    const pids = [first.pids(), second.pids()] as const;
    const before = pids.map(cpuMicros);
    const result = await this.load.run<PairedResult>({
      type: "paired",
      urls: [first.url, second.url],
      concurrency: this.options.throughputConcurrency,
      requests: this.options.throughputRequests,
    });
    const perRequest = pids.map((ids, i) => (cpuMicros(ids) - (before[i] ?? 0)) / (result.completed[i] ?? 1));
    [first, second].forEach((target, i) => {
      this.record(target, "paired.cpuUsPerReq", perRequest[i] ?? Number.NaN);
    });
    this.progress(
      `${first.name} and ${second.name} at once: ${perRequest.map((us) => us.toFixed(1)).join(" and ")} CPU-µs/req` +
        `${result.errors > 0 ? `, ${result.errors} errors` : ""}`,
    );
  }

  private async rateHolds(target: Target, rate: number): Promise<boolean> {
    const durationMs = this.options.stepMs;
    const result = await this.load.run<LatencyResult>({ type: "open", url: target.url, rate, durationMs });
    const expected = Math.ceil((rate * durationMs) / 1000);
    const ok =
      result.errors === 0 &&
      result.shed === 0 &&
      result.completed >= expected * 0.99 &&
      result.p99Ms < P99_BOUND_MS;
    this.progress(
      `${target.name}: ${rate} rps open loop → p99 ${result.p99Ms.toFixed(2)} ms` +
        `${result.errors + result.shed > 0 ? `, ${result.errors} errors, ${result.shed} shed` : ""} ${ok ? "ok" : "over"}`,
    );
    return ok;
  }

  /**
   * The highest open-loop rate with p99 under the bound: start from a quarter of the closed-loop
   * throughput (which should hold), then bisect up to a little above it.
   */
  async maxRate(target: Target, closedRps: number): Promise<void> {
    let low = Math.round(closedRps * 0.25);
    while (low >= 50 && !(await this.rateHolds(target, low))) low = Math.round(low / 2);
    if (low < 50) {
      this.record(target, "rate.maxRps", 0);
      return;
    }
    let high = Math.round(closedRps * 1.1);
    for (let step = 0; step < this.options.searchSteps; step++) {
      const middle = Math.round((low + high) / 2);
      if (await this.rateHolds(target, middle)) low = middle;
      else high = middle;
    }
    this.record(target, "rate.maxRps", low);
  }

  /** Streams of N chunks in a closed loop at 100 concurrent: chunks relayed per second and TTFT. */
  async streams(target: Target): Promise<void> {
    const [result, cpu] = await this.withCpu(target, () =>
      this.load.run<StreamsResult>({
        type: "streams",
        url: target.url,
        concurrency: this.options.streamConcurrency,
        chunks: this.options.streamChunks,
        durationMs: this.options.streamMs,
      }),
    );
    const perSec = (result.chunks / result.elapsedMs) * 1000;
    this.record(target, "stream.chunksPerSec", perSec);
    this.record(target, "stream.cpuUsPerChunk", cpu / result.chunks);
    this.record(target, "stream.ttftP50Ms", result.ttftP50Ms);
    this.record(target, "stream.ttftP99Ms", result.ttftP99Ms);
    this.progress(
      `${target.name}: streams ${perSec.toFixed(0)} chunks/s, TTFT p50 ${result.ttftP50Ms.toFixed(2)} ms` +
        `${result.errors > 0 ? `, ${result.errors} errors` : ""}`,
    );
  }

  /** Opens the configured number of streams, held open after their first chunk, and reads RSS. */
  async hold(target: Target): Promise<HoldResult> {
    const pids = target.pids();
    const idle = rssBytes(pids);
    const result = await this.load.run<HoldResult>({
      type: "hold",
      url: target.url,
      count: this.options.holdStreams,
      batch: HOLD_BATCH,
      timeoutMs: HOLD_TIMEOUT_MS,
    });
    let peak = 0;
    for (let i = 0; i < 5; i++) {
      peak = Math.max(peak, rssBytes(pids));
      await sleep(200);
    }
    this.record(target, "hold.opened", result.opened);
    this.record(target, "hold.rssIdleMB", idle / MB);
    this.record(target, "hold.rssMB", peak / MB);
    this.record(target, "hold.rssAddedMB", (peak - idle) / MB);
    this.progress(
      `${target.name}: ${result.opened}/${this.options.holdStreams} streams open in ` +
        `${(result.elapsedMs / 1000).toFixed(1)} s, RSS ${(idle / MB).toFixed(0)} → ${(peak / MB).toFixed(0)} MB` +
        `${result.firstError ? ` (first error: ${result.firstError})` : ""}`,
    );
    await this.load.run({ type: "release" });
    // Let the proxy tear the streams down before the next measurement.
    await sleep(1500);
    return result;
  }
}
