import { monitorEventLoopDelay } from "node:perf_hooks";
import type { RoutingStrategy } from "../../src/routing/index.js";
import { medianMetrics } from "./aggregate.js";
import { drive, type RequestRecord } from "./driver.js";
import type { BenchFleet } from "./fleet.js";
import { type CellMetrics, summarize } from "./metrics.js";
import {
  planWorkload,
  WARMUP_MS,
  WORKLOAD_NAMES,
  type WorkloadId,
  type WorkloadScale,
  warmupArrivals,
} from "./workloads.js";

export interface MatrixOptions {
  readonly policies: readonly RoutingStrategy[];
  readonly workloads: readonly WorkloadId[];
  readonly repeats: number;
  readonly seed: number;
  readonly scale: WorkloadScale;
  readonly model: string;
  /** A fresh fleet and gateway for one run. */
  readonly startFleet: (policy: RoutingStrategy) => Promise<BenchFleet>;
  readonly log: (line: string) => void;
  /** Told every measured request of a run, for `--records`. */
  readonly onRecords?: ((run: RunId, records: readonly RequestRecord[]) => void) | undefined;
}

export interface RunId {
  readonly policy: RoutingStrategy;
  readonly workload: WorkloadId;
  readonly seed: number;
}

export interface CellResult {
  readonly policy: RoutingStrategy;
  readonly workload: WorkloadId;
  /** Median over the runs, metric by metric. */
  readonly metrics: CellMetrics;
  readonly runs: readonly CellMetrics[];
  /** 99th percentile event-loop delay of the benchmark process during the runs (client, gateway, sims). */
  readonly eventLoopP99Ms: number;
}

/**
 * Every policy on every workload, `repeats` times. Policies take turns within a repeat, so slow drift
 * of the machine (other jobs on shared cores) spreads over all of them instead of hitting one.
 */
export async function runMatrix(options: MatrixOptions): Promise<CellResult[]> {
  const runs = new Map<string, { metrics: CellMetrics[]; lag: number[] }>();
  for (const workload of options.workloads) {
    for (let repeat = 0; repeat < options.repeats; repeat++) {
      // Same seed for (a) and (c): (c) is (a) plus the slowdown, so (a) is its baseline.
      const seed = options.seed + repeat * 1000;
      const plan = planWorkload(workload, seed, options.scale);
      const warmup = warmupArrivals(seed, options.scale);
      for (const policy of options.policies) {
        const lag = monitorEventLoopDelay({ resolution: 5 });
        const fleet = await options.startFleet(policy);
        lag.enable();
        let records: Awaited<ReturnType<typeof drive>>;
        try {
          records = await drive(fleet, plan, warmup, WARMUP_MS, options.model, options.scale.ttftTimeoutMs);
        } finally {
          lag.disable();
          await fleet.close();
        }
        options.onRecords?.({ policy, workload, seed }, records);
        const metrics = summarize(
          records,
          options.scale.ttftTimeoutMs,
          plan.slowdown ? fleet.slowNodeId : undefined,
        );
        const key = `${policy}/${workload}`;
        const cell = runs.get(key) ?? { metrics: [], lag: [] };
        cell.metrics.push(metrics);
        cell.lag.push(lag.percentile(99) / 1e6);
        runs.set(key, cell);
        options.log(
          `  ${WORKLOAD_NAMES[workload].padEnd(13)} #${repeat + 1} ${policy.padEnd(12)} ` +
            `ttft p95 ${metrics.ttftP95.toFixed(0).padStart(5)} ms  ok ${(metrics.successRate * 100).toFixed(1)}%`,
        );
      }
    }
  }
  return options.workloads.flatMap((workload) =>
    options.policies.map((policy) => {
      const cell = runs.get(`${policy}/${workload}`)!;
      return {
        policy,
        workload,
        metrics: medianMetrics(cell.metrics, options.scale.ttftTimeoutMs),
        runs: cell.metrics,
        eventLoopP99Ms: Math.max(...cell.lag),
      };
    }),
  );
}
