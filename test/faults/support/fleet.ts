import type { GatewayConfigInput } from "../../../src/config/index.js";
import type { SimNodeOptions } from "../../../src/sim/index.js";
import { startFleet, type TestFleet } from "../../support/fleet.js";
import { adminNodes, until } from "./admin.js";

/** The node the suite makes faulty; the other two stay healthy. */
export const FAULTY = "node-0";
export const VOLUME_THRESHOLD = 3;
export const RESET_TIMEOUT_MS = 700;
export const REQUEST_TIMEOUT_MS = 3000;
/** Past this a request counts as hung: the gateway's own deadline plus slack for a noisy machine. */
export const GUARD_MS = REQUEST_TIMEOUT_MS + 3000;

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
    ttft_timeout_ms: 400,
    idle_timeout_ms: 300,
    response_timeout_ms: 600,
    retry_budget_min_per_second: 100,
    continuation: true,
    breaker: {
      error_threshold_percentage: 50,
      volume_threshold: VOLUME_THRESHOLD,
      window_ms: 2000,
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
    3000,
  );
  return fleet;
}
