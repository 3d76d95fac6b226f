import { afterEach, describe, expect, it } from "vitest";
import type { TestFleet } from "../support/fleet.js";
import { faultFleet, LIFECYCLE_TEST_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from "./support/fleet.js";
import { expectBreakerLifecycle, faultLifecycle, successRate } from "./support/lifecycle.js";
import { type RequestSpec, requestMix } from "./support/load.js";

/**
 * Regression: a non-streamed request sent to a node that never answers used to wait for the whole
 * request deadline and get 504 instead of failing over, and the hung node was never blamed, so its
 * breaker never opened. `resilience.response_timeout_ms` now gives up on the node, as its fault.
 */
let fleet: TestFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const unary = (specs: RequestSpec[]) => specs.map((spec) => ({ ...spec, stream: false }));

describe("non-streamed requests on a hung node", { timeout: LIFECYCLE_TEST_TIMEOUT_MS }, () => {
  for (const fault of ["hang before headers", "hang mid-stream"] as const) {
    it(`${fault}: non-streamed requests fail over well before the request deadline`, async () => {
      fleet = await faultFleet();
      const result = await faultLifecycle(fleet, {
        fault,
        specs: unary(requestMix(30, 111)),
        concurrency: 10,
        quarantineSpecs: unary(requestMix(15, 112)),
        seed: 113,
      });
      expectBreakerLifecycle(result, 10);
      expect(successRate(result.fault.records)).toBe(1);
      for (const record of result.fault.records) expect(record.totalMs).toBeLessThan(REQUEST_TIMEOUT_MS);
    });
  }
});
