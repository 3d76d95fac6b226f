import { afterEach, describe, expect, it } from "vitest";
import type { SimNode } from "../../src/sim/index.js";
import type { TestFleet } from "../support/fleet.js";
import { until } from "./support/admin.js";
import { FAULTY, faultFleet, GUARD_MS, LIFECYCLE_TEST_TIMEOUT_MS, TIGHT } from "./support/fleet.js";
import { successRate, violations } from "./support/lifecycle.js";
import { type RequestRecord, requestMix, runConcurrent } from "./support/load.js";
import { watchFaulty } from "./support/scenario.js";

/**
 * Faults that are not failures: a node whose health flaps between probes, and a node that is slow
 * but answers. Neither may cost a request, and neither is a reason to take the node out.
 * (A node trickling one byte a second is a failure: see pending/one-byte-a-second.pending.ts.)
 */
let fleet: TestFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/**
 * Probes every 250 ms and four failed ones in a row take a node out. What decides is how many probes
 * land in one down period, and a loaded machine stretches the gap between probes by its stalls (the
 * next probe is timed from the end of the last): periods counted in probe intervals, with an interval
 * several times a typical stall, keep that count where the test means it to be. A probe answers
 * within 2 s however loaded the machine: the flap, not the probe's own timeout, is the fault under test.
 */
const PROBE_MS = 250;
const FLAP_CONFIG = {
  ...TIGHT,
  health: { interval_ms: PROBE_MS, timeout_ms: 2_000, unhealthy_threshold: 4, healthy_threshold: 2 },
};
/** Two probe intervals: at most two probes land in a down period (three when one arrives late). */
const SHORT_FLAP_MS = 2 * PROBE_MS;
/** Eight probe intervals: four probes fit in a down period even with every gap doubled. */
const LONG_FLAP_MS = 8 * PROBE_MS;
/** Several long flap cycles: the node goes out and comes back within the first on a quiet machine. */
const COME_BACK_MS = 30_000;

const servedBy = (records: readonly RequestRecord[], node: string) =>
  records.filter((record) => record.node === node && record.outcome.verdict === "success").length;

describe("faults that must not cost a request", { timeout: LIFECYCLE_TEST_TIMEOUT_MS }, () => {
  it("flapping health (periods of two probe intervals): never taken out, nothing fails", async () => {
    fleet = await faultFleet(undefined, FLAP_CONFIG);
    const watch = watchFaulty(fleet);
    try {
      (fleet.sims[0] as SimNode).setFaults({ flapPeriodMs: SHORT_FLAP_MS });
      const records = await runConcurrent(fleet.gateway.url, requestMix(60, 71), 4, { guardMs: GUARD_MS });
      expect(violations(records)).toEqual([]);
      expect(successRate(records)).toBe(1);
      expect(watch.states).toEqual(["healthy"]);
      expect(watch.breakers).toEqual(["closed"]);
      // Round-robin over three nodes: the flapping one still takes about its third.
      expect(servedBy(records, FAULTY)).toBeGreaterThanOrEqual(records.length / 5);
    } finally {
      watch.stop();
    }
  });

  it("flapping with long periods: out after consecutive failed probes, back after good ones, nothing fails", async () => {
    fleet = await faultFleet(undefined, FLAP_CONFIG);
    const watch = watchFaulty(fleet);
    try {
      (fleet.sims[0] as SimNode).setFaults({ flapPeriodMs: LONG_FLAP_MS });
      const records: RequestRecord[] = [];
      const cameBack = () => watch.states.length >= 3 && watch.states.at(-1) === "healthy";
      const deadline = performance.now() + COME_BACK_MS;
      for (let round = 0; !cameBack() && performance.now() < deadline; round++) {
        records.push(
          ...(await runConcurrent(fleet.gateway.url, requestMix(6, 80 + round), 3, { guardMs: GUARD_MS })),
        );
      }
      // The last round may end just before the good probes: they come within one up period.
      await until(cameBack, LONG_FLAP_MS + 5_000);
      expect(watch.states.slice(0, 3)).toEqual(["healthy", "loading", "healthy"]);
      expect(violations(records)).toEqual([]);
      expect(successRate(records)).toBe(1);
    } finally {
      watch.stop();
    }
  });

  it("slow node (4 kB/s): events split across reads are reassembled, every answer completes", async () => {
    fleet = await faultFleet();
    const watch = watchFaulty(fleet);
    try {
      (fleet.sims[0] as SimNode).setFaults({ slowBytesPerSecond: 4000 });
      const records = await runConcurrent(fleet.gateway.url, requestMix(24, 91), 8, { guardMs: GUARD_MS });
      expect(violations(records)).toEqual([]);
      expect(successRate(records)).toBe(1);
      expect(servedBy(records, FAULTY)).toBeGreaterThanOrEqual(records.length / 5);
      expect(watch.breakers).toEqual(["closed"]);
    } finally {
      watch.stop();
    }
  });
});
