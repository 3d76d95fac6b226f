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
  readonly note?: string | undefined;
}

/** Run-to-run noise on a loaded 2-core machine; "no worse" allows this much. */
const NOISE = 0.1;

type Pick = (m: CellMetrics) => number | null;

interface Check {
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
}

const CHECKS: readonly Check[] = [
  {
    id: "b.ttft",
    description: "(b) p95 TTFT ≤ 0.5× round-robin",
    workload: "b",
    metric: (m) => m.ttftP95,
    bound: (cell) => {
      const rr = cell("round-robin", "b");
      return { value: rr ? rr.ttftP95 * 0.5 : null, censored: rr?.ttftCensored.p95 };
    },
  },
  {
    id: "b.cache",
    description: "(b) prompt-cache reuse ≥ 75%",
    workload: "b",
    metric: (m) => m.cacheReuse,
    bound: () => ({ value: 0.75 }),
    higherIsBetter: true,
  },
  {
    id: "c.success",
    description: "(c) success ≥ 99.9% (1 s TTFT timeout)",
    workload: "c",
    metric: (m) => m.successRate,
    bound: () => ({ value: 0.999 }),
    higherIsBetter: true,
  },
  {
    id: "c.ttft-p99",
    description: "(c) p99 TTFT ≤ 1.5× the run without the slowdown",
    workload: "c",
    metric: (m) => m.ttftP99,
    bound: (cell) => ({ value: (cell("latency", "a")?.ttftP99 ?? Number.NaN) * 1.5 }),
  },
  {
    id: "c.e2e-p99",
    description: "(c) p99 end-to-end ≤ 1.5× the run without the slowdown",
    workload: "c",
    metric: (m) => m.e2eP99,
    bound: (cell) => ({ value: (cell("latency", "a")?.e2eP99 ?? Number.NaN) * 1.5 }),
  },
  {
    id: "a.ttft",
    description: "(a) p95 TTFT no worse than least-loaded (+10%)",
    workload: "a",
    metric: (m) => m.ttftP95,
    bound: (cell) => ({ value: (cell("least-loaded", "a")?.ttftP95 ?? Number.NaN) * (1 + NOISE) }),
  },
  {
    id: "a.e2e",
    description: "(a) p99 end-to-end no worse than least-loaded (+10%)",
    workload: "a",
    metric: (m) => m.e2eP99,
    bound: (cell) => ({ value: (cell("least-loaded", "a")?.e2eP99 ?? Number.NaN) * (1 + NOISE) }),
  },
  {
    id: "a.success",
    description: "(a) success no worse than least-loaded",
    workload: "a",
    metric: (m) => m.successRate,
    bound: (cell) => ({ value: cell("least-loaded", "a")?.successRate ?? null }),
    higherIsBetter: true,
  },
];

/** The targets for the `latency` policy, judged on the median of the runs. */
export function evaluateTargets(results: readonly CellResult[]): TargetResult[] {
  const cell = (policy: RoutingStrategy, workload: WorkloadId) =>
    results.find((r) => r.policy === policy && r.workload === workload)?.metrics;
  return CHECKS.flatMap((check): TargetResult[] => {
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
        },
      ];
    }
    const met = check.higherIsBetter ? value >= bound.value : value <= bound.value;
    const verdict: Verdict = met ? "met" : bound.censored ? "inconclusive" : "missed";
    const note = bound.censored ? "bound derived from a percentile censored at the timeout" : undefined;
    return [{ id: check.id, description: check.description, value, bound: bound.value, verdict, note }];
  });
}
