import type { RoutingStrategy } from "../../src/routing/index.js";
import type { CellResult } from "./matrix.js";
import type { CellMetrics } from "./metrics.js";
import type { WorkloadId } from "./workloads.js";

export type Verdict = "met" | "missed" | "inconclusive";

export interface TargetResult {
  readonly id: string;
  readonly description: string;
  /** The measured value and the bound it was held to, in the metric's unit. */
  readonly value: number | null;
  readonly bound: number | null;
  readonly verdict: Verdict;
  readonly unit: Unit;
  readonly note?: string | undefined;
}

export type Unit = "ms" | "share" | "count";

/** Run-to-run noise on a loaded 2-core machine; "no worse" allows this much. */
const NOISE = 0.1;

type Pick = (m: CellMetrics) => number | null;

export interface Check {
  readonly id: string;
  readonly description: string;
  readonly workload: WorkloadId;
  readonly metric: Pick;
  /** The bound, from another cell or a constant. */
  readonly bound: (cell: (policy: RoutingStrategy, workload: WorkloadId) => CellMetrics | undefined) => {
    value: number | null;
    /** The bound is itself only a lower bound (a censored percentile), so only "met" can be shown. */
    censored?: boolean;
  };
  readonly higherIsBetter?: boolean;
  readonly unit: Unit;
}

const SIM_CHECKS: readonly Check[] = [
  {
    id: "b.ttft",
    description: "(b) p95 TTFT ≤ 0.5× round-robin",
    workload: "b",
    metric: (m) => m.ttftP95,
    bound: (cell) => {
      const rr = cell("round-robin", "b");
      return { value: rr ? rr.ttftP95 * 0.5 : null, censored: rr?.ttftCensored.p95 };
    },
    unit: "ms",
  },
  {
    id: "b.cache",
    description: "(b) prompt-cache reuse ≥ 75%",
    workload: "b",
    metric: (m) => m.cacheReuse,
    bound: () => ({ value: 0.75 }),
    higherIsBetter: true,
    unit: "share",
  },
  {
    id: "c.success",
    description: "(c) success ≥ 99.9% (1 s TTFT timeout)",
    workload: "c",
    metric: (m) => m.successRate,
    bound: () => ({ value: 0.999 }),
    higherIsBetter: true,
    unit: "share",
  },
  {
    id: "c.ttft-p99",
    description: "(c) p99 TTFT ≤ 1.5× the run without the slowdown",
    workload: "c",
    metric: (m) => m.ttftP99,
    bound: (cell) => ({ value: (cell("latency", "a")?.ttftP99 ?? Number.NaN) * 1.5 }),
    unit: "ms",
  },
  {
    id: "c.e2e-p99",
    description: "(c) p99 end-to-end ≤ 1.5× the run without the slowdown",
    workload: "c",
    metric: (m) => m.e2eP99,
    bound: (cell) => ({ value: (cell("latency", "a")?.e2eP99 ?? Number.NaN) * 1.5 }),
    unit: "ms",
  },
  {
    id: "a.ttft",
    description: "(a) p95 TTFT no worse than least-loaded (+10%)",
    workload: "a",
    metric: (m) => m.ttftP95,
    bound: (cell) => ({ value: (cell("least-loaded", "a")?.ttftP95 ?? Number.NaN) * (1 + NOISE) }),
    unit: "ms",
  },
  {
    id: "a.e2e",
    description: "(a) p99 end-to-end no worse than least-loaded (+10%)",
    workload: "a",
    metric: (m) => m.e2eP99,
    bound: (cell) => ({ value: (cell("least-loaded", "a")?.e2eP99 ?? Number.NaN) * (1 + NOISE) }),
    unit: "ms",
  },
  {
    id: "a.success",
    description: "(a) success no worse than least-loaded",
    workload: "a",
    metric: (m) => m.successRate,
    bound: (cell) => ({ value: cell("least-loaded", "a")?.successRate ?? null }),
    higherIsBetter: true,
    unit: "share",
  },
];

/**
 * Real llama-servers under contention (issue 17): conversations with long contexts of their own, at
 * least half the fleet's slots in flight. `slots` is the fleet's total.
 */
function llamaChecks(slots: number): Check[] {
  return [
    {
      id: "llama.cache",
      description: "(b) prompt-cache reuse ≥ 0.75",
      workload: "b",
      metric: (m) => m.cacheReuse,
      bound: () => ({ value: 0.75 }),
      higherIsBetter: true,
      unit: "share",
    },
    {
      id: "llama.ttft-mean",
      description: "(b) mean TTFT ≤ 0.6× round-robin",
      workload: "b",
      metric: (m) => m.ttftMean,
      bound: (cell) => ({ value: (cell("round-robin", "b")?.ttftMean ?? Number.NaN) * 0.6 }),
      unit: "ms",
    },
    {
      id: "llama.success",
      description: "(b) no errors",
      workload: "b",
      metric: (m) => m.successRate,
      bound: () => ({ value: 1 }),
      higherIsBetter: true,
      unit: "share",
    },
    {
      id: "llama.requests",
      description: "(b) ≥ 100 requests per run",
      workload: "b",
      metric: (m) => m.requests,
      bound: () => ({ value: 100 }),
      higherIsBetter: true,
      unit: "count",
    },
    {
      id: "llama.in-flight",
      description: `(b) mean requests in flight ≥ half the fleet's ${slots} slots`,
      workload: "b",
      metric: (m) => m.meanInFlight,
      bound: () => ({ value: slots / 2 }),
      higherIsBetter: true,
      unit: "count",
    },
  ];
}

/** Which targets a run is held to: the sim's, or (given the fleet's slots) the real-llama ones. */
export function checksFor(llamaSlots: number | undefined): readonly Check[] {
  return llamaSlots === undefined ? SIM_CHECKS : llamaChecks(llamaSlots);
}

/** The targets for the `latency` policy, judged on the median of the runs. */
export function evaluateTargets(results: readonly CellResult[], checks: readonly Check[]): TargetResult[] {
  const cell = (policy: RoutingStrategy, workload: WorkloadId) =>
    results.find((r) => r.policy === policy && r.workload === workload)?.metrics;
  return checks.flatMap((check): TargetResult[] => {
    const own = cell("latency", check.workload);
    if (!own) return [];
    const value = check.metric(own);
    const bound = check.bound(cell);
    if (value === null || bound.value === null || Number.isNaN(bound.value)) {
      return [
        {
          id: check.id,
          description: check.description,
          value,
          bound: null,
          verdict: "inconclusive" as const,
          unit: check.unit,
        },
      ];
    }
    const met = check.higherIsBetter ? value >= bound.value : value <= bound.value;
    const verdict: Verdict = met ? "met" : bound.censored ? "inconclusive" : "missed";
    const note = bound.censored ? "bound derived from a percentile censored at the timeout" : undefined;
    const { id, description, unit } = check;
    return [{ id, description, value, bound: bound.value, verdict, unit, note }];
  });
}
