import type { SimNode } from "../../src/sim/index.js";
import { FAULTS, type FaultName } from "../../test/faults/support/faults.js";

/** One run of the benchmark: a fleet-wide workload while node-0 misbehaves (or not). */
export interface Scenario {
  readonly name: "baseline" | FaultName | "killed";
  /** Turns the fault on at the onset; undefined for the fault-free baseline. */
  readonly inject: ((node: SimNode) => void) | undefined;
}

const setting =
  (name: FaultName): Scenario["inject"] =>
  (node) =>
    node.setFaults(FAULTS[name]);

export const SCENARIOS: readonly Scenario[] = [
  { name: "baseline", inject: undefined },
  ...(Object.keys(FAULTS) as FaultName[]).map((name) => ({ name, inject: setting(name) })),
  { name: "killed", inject: (node) => node.kill() },
];
