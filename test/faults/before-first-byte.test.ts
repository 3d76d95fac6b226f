import { afterEach, describe, expect, it } from "vitest";
import type { TestFleet } from "../support/fleet.js";
import { faultFleet, LIFECYCLE_TEST_TIMEOUT_MS } from "./support/fleet.js";
import {
  expectBreakerLifecycle,
  faultLifecycle,
  successRate,
  unexpectedErrors,
} from "./support/lifecycle.js";
import { type RequestSpec, requestMix } from "./support/load.js";

/**
 * Faults that show before the first byte reaches the client. The gateway must hide them completely:
 * the next-ranked node answers, so every request succeeds, and the faulty node's breaker opens,
 * keeps traffic away, and closes again through half-open once the node is fixed.
 */
const CONCURRENCY = 10;
let fleet: TestFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const streamsOnly = (specs: RequestSpec[]) => specs.map((spec) => ({ ...spec, stream: true }));

describe("faults before the first byte, under concurrent load", {
  timeout: LIFECYCLE_TEST_TIMEOUT_MS,
}, () => {
  it("5xx storm: every request fails over and succeeds; the breaker opens and recovers", async () => {
    fleet = await faultFleet();
    const result = await faultLifecycle(fleet, {
      fault: "5xx storm",
      specs: requestMix(30, 11),
      concurrency: CONCURRENCY,
      quarantineSpecs: requestMix(15, 12),
      seed: 13,
    });
    expectBreakerLifecycle(result, CONCURRENCY);
    expect(unexpectedErrors(result.fault.records, () => false)).toEqual([]);
    expect(successRate(result.fault.records)).toBe(1);
  });

  it("garbage output: a garbled first event or body is never relayed; the next node answers", async () => {
    fleet = await faultFleet();
    const result = await faultLifecycle(fleet, {
      fault: "garbage output",
      specs: requestMix(30, 21),
      concurrency: CONCURRENCY,
      quarantineSpecs: requestMix(15, 22),
      seed: 23,
    });
    expectBreakerLifecycle(result, CONCURRENCY);
    expect(successRate(result.fault.records)).toBe(1);
  });

  // Streams only: a non-streamed request on a hung node waits for the request deadline instead of
  // failing over (see pending/hang-unary.pending.ts).
  it("hang before headers: streams silent past ttft_timeout_ms move to another node", async () => {
    fleet = await faultFleet();
    const result = await faultLifecycle(fleet, {
      fault: "hang before headers",
      specs: streamsOnly(requestMix(30, 31)),
      concurrency: CONCURRENCY,
      quarantineSpecs: streamsOnly(requestMix(15, 32)),
      seed: 33,
    });
    expectBreakerLifecycle(result, CONCURRENCY);
    expect(successRate(result.fault.records)).toBe(1);
  });
});
