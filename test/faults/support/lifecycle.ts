import { expect } from "vitest";
import type { SimNode } from "../../../src/sim/index.js";
import { NO_FAULTS } from "../../../src/sim/index.js";
import type { TestFleet } from "../../support/fleet.js";
import { FAULTS, type FaultName } from "./faults.js";
import { VOLUME_THRESHOLD } from "./fleet.js";
import type { RequestRecord, RequestSpec } from "./load.js";
import {
  type FaultPhase,
  followsPath,
  loadWhileOpen,
  loadWithFault,
  type QuarantinePhase,
  type Recovery,
  recover,
  watchFaulty,
} from "./scenario.js";

export interface LifecyclePlan {
  readonly fault: FaultName;
  /** The burst while the fault is on. */
  readonly specs: readonly RequestSpec[];
  readonly concurrency: number;
  /** Traffic once the breaker is open. */
  readonly quarantineSpecs: readonly RequestSpec[];
  readonly seed: number;
}

export interface Lifecycle {
  readonly fault: FaultPhase;
  readonly quarantine: QuarantinePhase;
  readonly recovery: Recovery;
}

/** Fault on, load until the breaker opens, load around the open breaker, fault off, recovery. */
export async function faultLifecycle(fleet: TestFleet, plan: LifecyclePlan): Promise<Lifecycle> {
  const faulty = fleet.sims[0] as SimNode;
  const watch = watchFaulty(fleet);
  try {
    faulty.setFaults(FAULTS[plan.fault]);
    const fault = await loadWithFault(fleet, watch, plan.specs, plan.concurrency);
    const quarantine = await loadWhileOpen(fleet, plan.quarantineSpecs);
    faulty.setFaults(NO_FAULTS);
    const recovery = await recover(fleet, watch, faulty, plan.seed);
    return { fault, quarantine, recovery };
  } finally {
    watch.stop();
  }
}

export function describeRecord(record: RequestRecord): string {
  const { spec, outcome } = record;
  return `${spec.kind}${spec.stream ? " stream" : ""} via ${record.node || "?"}: ${outcome.verdict} (${outcome.reason})`;
}

/** Every request that was neither a correct answer nor an explicit error, described for the failure message. */
export function violations(records: readonly RequestRecord[]): string[] {
  return records.filter((record) => record.outcome.verdict === "violation").map(describeRecord);
}

/** Explicit errors other than the ones a scenario allows, described. */
export function unexpectedErrors(
  records: readonly RequestRecord[],
  allowed: (record: RequestRecord) => boolean,
): string[] {
  return records
    .filter((record) => record.outcome.verdict === "error" && !allowed(record))
    .map(describeRecord);
}

/** The assertions every breaker-opening fault shares. */
export function expectBreakerLifecycle(result: Lifecycle, concurrency: number): void {
  const all = [...result.fault.records, ...result.quarantine.records];
  expect(violations(all)).toEqual([]);
  // Requests already on their way when the threshold-reaching failure lands cannot be recalled.
  expect(result.fault.requestsAtOpen).toBeDefined();
  expect(result.fault.requestsAtOpen).toBeLessThanOrEqual(VOLUME_THRESHOLD + concurrency);
  // With the breaker open nothing but a half-open trial reaches the node, and nobody notices it.
  expect(result.quarantine.reachedFaulty).toBeLessThanOrEqual(result.quarantine.trialsAllowed);
  expect(result.quarantine.records.map(describeRecord).filter((line) => !line.includes(": success"))).toEqual(
    [],
  );
  expect(result.recovery.breakerPath).toSatisfy((path: string[]) =>
    followsPath(path, ["open", "half-open", "closed"]),
  );
  expect(result.recovery.served).toBe(true);
  expect(result.recovery.closed).toBe(true);
}

export function successRate(records: readonly RequestRecord[]): number {
  return (
    records.filter((record) => record.outcome.verdict === "success").length / Math.max(1, records.length)
  );
}
