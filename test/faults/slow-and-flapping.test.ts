import { afterEach, describe, expect, it } from "vitest";
import type { SimNode } from "../../src/sim/index.js";
import type { TestFleet } from "../support/fleet.js";
import { until } from "./support/admin.js";
import { FAULTS } from "./support/faults.js";
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

/** Production's default: a node goes out after three failed probes in a row, never on one. */
/**
 * Four failed probes take a node out. Probes go every 100 ms, so at most two land in a 200 ms down
 * period on a quiet machine; on a loaded one a probe sent in the up period can arrive late, inside the
 * down period, and make three (seen under load). 700 ms periods still hold seven.
 */
const FLAP_CONFIG = { ...TIGHT, health: { unhealthy_threshold: 4, healthy_threshold: 2 } };

const servedBy = (records: readonly RequestRecord[], node: string) =>
  records.filter((record) => record.node === node && record.outcome.verdict === "success").length;

describe("faults that must not cost a request", { timeout: LIFECYCLE_TEST_TIMEOUT_MS }, () => {
  it("flapping health (200 ms periods, probes every 100 ms): never taken out, nothing fails", async () => {
    fleet = await faultFleet(undefined, FLAP_CONFIG);
    const watch = watchFaulty(fleet);
    try {
      (fleet.sims[0] as SimNode).setFaults(FAULTS.flapping);
      // At most two probes fit in a 200 ms down period (three when one arrives late), short of the threshold.
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
      (fleet.sims[0] as SimNode).setFaults({ flapPeriodMs: 700 });
      const records: RequestRecord[] = [];
      const cameBack = () => watch.states.length >= 3 && watch.states.at(-1) === "healthy";
      for (let round = 0; round < 40 && !cameBack(); round++) {
        records.push(
          ...(await runConcurrent(fleet.gateway.url, requestMix(6, 80 + round), 3, { guardMs: GUARD_MS })),
        );
      }
      await until(cameBack, 2000);
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
