import { afterEach, describe, expect, it } from "vitest";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import type { TestFleet } from "../support/fleet.js";
import { FAST_SIM, faultFleet, GUARD_MS, LIFECYCLE_TEST_TIMEOUT_MS } from "./support/fleet.js";
import {
  expectBreakerLifecycle,
  faultLifecycle,
  successRate,
  unexpectedErrors,
  violations,
} from "./support/lifecycle.js";
import { type RequestRecord, type RequestSpec, requestMix, runConcurrent } from "./support/load.js";
import {
  followsPath,
  loadWhileOpen,
  loadWithFault,
  recover,
  streamsFirst,
  watchFaulty,
} from "./support/scenario.js";

/**
 * Faults after the first byte. A chat stream must continue on another node as one unbroken answer
 * (one chunk id, non-empty text, [DONE]); a /v1/completions stream cannot be continued and must end
 * with an explicit stream_interrupted event. Nothing else may fail.
 */
const CONCURRENCY = 10;
let fleet: TestFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/** The one error these faults may cause: a raw completion stream cut after content was sent. */
const interruptedCompletionStream = (record: RequestRecord) =>
  record.spec.kind === "completions" && record.spec.stream && record.outcome.reason === "stream_interrupted";

/** Chat requests only: a half-open trial may land on the still-faulty node and must go unnoticed. */
const chatOnly = (specs: RequestSpec[]) => specs.filter((spec) => spec.kind === "chat");

function continuedChatStreams(records: readonly RequestRecord[]): RequestRecord[] {
  return records.filter((record) => record.outcome.continued);
}

function expectContinuations(records: readonly RequestRecord[]): void {
  const continued = continuedChatStreams(records);
  expect(continued.length).toBeGreaterThan(0);
  for (const record of continued) {
    expect(record.outcome.verdict).toBe("success");
    expect(record.outcome.ids).toHaveLength(1);
    expect(record.outcome.text.trim()).not.toBe("");
  }
  // Every request but the cut completion streams succeeded.
  const cut = records.filter(interruptedCompletionStream).length;
  expect(successRate(records)).toBeCloseTo((records.length - cut) / records.length, 5);
}

describe("faults after the first byte, under concurrent load", { timeout: LIFECYCLE_TEST_TIMEOUT_MS }, () => {
  it("died mid-stream: chat streams continue elsewhere, completion streams end with an explicit error", async () => {
    fleet = await faultFleet();
    const result = await faultLifecycle(fleet, {
      fault: "died mid-stream",
      specs: streamsFirst(10, 20, 41),
      concurrency: CONCURRENCY,
      quarantineSpecs: chatOnly(requestMix(20, 42)),
      seed: 43,
    });
    expectBreakerLifecycle(result, CONCURRENCY);
    expect(unexpectedErrors(result.fault.records, interruptedCompletionStream)).toEqual([]);
    expectContinuations(result.fault.records);
  });

  // Streams only: hang-unary.test.ts covers non-streamed requests on a node that hangs mid-generation.
  it("hang mid-stream: silence past idle_timeout_ms is continued or ended explicitly", async () => {
    fleet = await faultFleet();
    const streams = (specs: RequestSpec[]) => specs.map((spec) => ({ ...spec, stream: true }));
    const result = await faultLifecycle(fleet, {
      fault: "hang mid-stream",
      specs: streams(streamsFirst(10, 20, 51)),
      concurrency: CONCURRENCY,
      quarantineSpecs: streams(chatOnly(requestMix(20, 52))),
      seed: 53,
    });
    expectBreakerLifecycle(result, CONCURRENCY);
    expect(unexpectedErrors(result.fault.records, interruptedCompletionStream)).toEqual([]);
    expectContinuations(result.fault.records);
  });

  it("killed mid-stream: open streams continue or end explicitly; the restarted node comes back", async () => {
    // Slower decode so that the kill lands while the first wave of streams is mid-answer.
    const slow = { ...FAST_SIM, tokensPerSecond: 40 };
    fleet = await faultFleet([slow, FAST_SIM, FAST_SIM]);
    const victim = fleet.sims[0] as SimNode;
    const watch = watchFaulty(fleet);
    try {
      const streaming = new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (victim.stats().busySlots < 2 || victim.stats().tokensGenerated < 4) return;
          clearInterval(check);
          victim.kill();
          resolve();
        }, 5);
      });
      const fault = await loadWithFault(fleet, watch, streamsFirst(10, 20, 61), CONCURRENCY);
      await streaming;
      expect(violations(fault.records)).toEqual([]);
      expect(unexpectedErrors(fault.records, interruptedCompletionStream)).toEqual([]);
      expectContinuations(fault.records);
      expect(fault.requestsAtOpen).toBeDefined();

      const quarantine = await loadWhileOpen(fleet, requestMix(15, 62));
      expect(violations(quarantine.records)).toEqual([]);
      expect(successRate(quarantine.records)).toBe(1);

      // The operator restarts the node on the same address.
      const restarted = await startSimNode({ ...FAST_SIM, port: victim.port });
      fleet.sims[0] = restarted;
      const recovery = await recover(fleet, watch, restarted, 63);
      expect(recovery.breakerPath).toSatisfy((path: string[]) =>
        followsPath(path, ["open", "half-open", "closed"]),
      );
      expect(recovery.served).toBe(true);
      const after = await runConcurrent(fleet.gateway.url, requestMix(12, 64), 4, { guardMs: GUARD_MS });
      expect(successRate(after)).toBe(1);
      expect(after.some((record) => record.node === "node-0")).toBe(true);
    } finally {
      watch.stop();
    }
  });
});
