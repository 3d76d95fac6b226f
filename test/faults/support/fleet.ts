import type { GatewayConfigInput } from "../../../src/config/index.js";
import type { SimNodeOptions } from "../../../src/sim/index.js";
import { startFleet, type TestFleet } from "../../support/fleet.js";
import { adminNodes, until } from "./admin.js";

/** The node the suite makes faulty; the other two stay healthy. */
export const FAULTY = "node-0";
export const VOLUME_THRESHOLD = 3;
export const RESET_TIMEOUT_MS = 700;
/**
 * How long the gateway waits on a silent node. The sims run in the test's own process, so a stall of
 * that process delays a healthy node's next token as much as the gateway's timer: past this, healthy
 * nodes get blamed too. Two seconds outlast the stalls of a loaded CI machine; the hangs the suite
 * injects are forever.
 */
export const SILENCE_TIMEOUT_MS = 2000;
/** Several silences long, so that a request failing over from a hung node ends well before it. */
export const REQUEST_TIMEOUT_MS = 12_000;
/** Past this a request counts as hung: the gateway's own deadline plus slack for a noisy machine. */
export const GUARD_MS = REQUEST_TIMEOUT_MS + 3000;
/** A whole lifecycle waits on several silences: more than vitest's 20 s on a loaded machine. */
export const LIFECYCLE_TEST_TIMEOUT_MS = 90_000;

/** Fast nodes, so a whole fault scenario takes seconds: 12 tokens take ~70 ms. */
export const FAST_SIM: SimNodeOptions = { slots: 8, ttftMs: 10, tokensPerSecond: 200 };

/**
 * Tight resilience settings. Round-robin without affinity gives the faulty node a fixed share of the
 * traffic, so its breaker sees enough calls to open; a generous retry budget keeps the budget (tested
 * on its own) out of the picture.
 */
export const TIGHT: Omit<GatewayConfigInput, "nodes"> = {
  server: { request_timeout_ms: REQUEST_TIMEOUT_MS },
  routing: { strategy: "round-robin", affinity: false },
  resilience: {
    max_attempts: 3,
    ttft_timeout_ms: SILENCE_TIMEOUT_MS,
    idle_timeout_ms: SILENCE_TIMEOUT_MS,
    response_timeout_ms: SILENCE_TIMEOUT_MS,
    retry_budget_min_per_second: 100,
    continuation: true,
    breaker: {
      error_threshold_percentage: 50,
      volume_threshold: VOLUME_THRESHOLD,
      // The failures of one burst land up to a silence apart: the window holds them together.
      window_ms: SILENCE_TIMEOUT_MS * 5,
      reset_timeout_ms: RESET_TIMEOUT_MS,
    },
  },
};

export async function faultFleet(
  sims: readonly SimNodeOptions[] = [FAST_SIM, FAST_SIM, FAST_SIM],
  config: Omit<GatewayConfigInput, "nodes"> = TIGHT,
): Promise<TestFleet> {
  const fleet = await startFleet([...sims], { config });
  // Wait for the first probes: before them the round-robin share of each node is not a third.
  await until(
    async () => (await adminNodes(fleet.gateway.url)).every((node) => node.state === "healthy"),
    10_000,
  );
  return fleet;
}
