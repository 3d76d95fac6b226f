import { afterEach, describe, expect, it } from "vitest";
import { startFleet, type TestFleet } from "../support/fleet.js";
import { classifyStream } from "./support/classify.js";
import { FAST_SIM, faultFleet, LIFECYCLE_TEST_TIMEOUT_MS } from "./support/fleet.js";
import { expectBreakerLifecycle, faultLifecycle, successRate } from "./support/lifecycle.js";
import { type RequestSpec, requestMix } from "./support/load.js";

/**
 * Regressions, with a node that trickles its response a byte at a time:
 * 1. The gateway's error event used to land right after a half-relayed event, garbling both
 *    (`..."finish_reason":nulldata: {"error":...}`); the relay now forwards whole events only.
 * 2. The first-token and idle clocks used to stop at any byte, so such a node was never blamed and
 *    its streams hung until the request deadline; now only complete events count as progress.
 */
let fleet: TestFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const streams = (specs: RequestSpec[]) => specs.map((spec) => ({ ...spec, stream: true }));

describe("a node trickling one byte at a time", { timeout: LIFECYCLE_TEST_TIMEOUT_MS }, () => {
  it("a stream the gateway gives up on ends with a whole, parseable error event", async () => {
    fleet = await startFleet([{ ...FAST_SIM, faults: { slowBytesPerSecond: 1 } }], {
      config: { server: { request_timeout_ms: 1500 } },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const response = await fetch(`${fleet.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "tiny",
        max_tokens: 5,
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    const body = await response.text();
    const outcome = classifyStream("chat", response.status, response.headers.get("content-type") ?? "", body);
    expect(outcome.verdict, body).toBe("error");
  });

  it("streams move to another node when no whole event comes within ttft_timeout_ms", async () => {
    fleet = await faultFleet();
    const result = await faultLifecycle(fleet, {
      fault: "one byte a second",
      specs: streams(requestMix(30, 121)),
      concurrency: 10,
      quarantineSpecs: streams(requestMix(15, 122)),
      seed: 123,
    });
    expectBreakerLifecycle(result, 10);
    expect(successRate(result.fault.records)).toBe(1);
  });
});
