import type { GatewayConfigInput } from "../../src/config/index.js";
import type { SimNodeOptions } from "../../src/sim/index.js";
import { NodeWatch, until } from "../../test/faults/support/admin.js";
import { type RequestRecord, runOpenLoop } from "../../test/faults/support/load.js";
import { startFleet } from "../../test/support/fleet.js";
import type { Scenario } from "./scenarios.js";

export interface RunSettings {
  readonly durationMs: number;
  readonly ratePerSecond: number;
  /** When node-0's fault starts, after the gateway has measured a healthy fleet. */
  readonly onsetMs: number;
  readonly seed: number;
  readonly maxTokens: number;
}

export interface ScenarioRun {
  readonly scenario: Scenario["name"];
  /** Requests sent from the fault's onset on (for the baseline, from the same moment). */
  readonly records: RequestRecord[];
  /** ms from onset until node-0's breaker was seen open; undefined if it never opened. */
  readonly breakerOpenAfterMs: number | undefined;
  /** Share of the requests sent after the breaker opened that node-0 answered. */
  readonly faultyShareAfterOpen: number | undefined;
  /** Inference requests (attempts, trials, continuations) node-0 received from the onset on. */
  readonly faultyAttempts: number;
  readonly wallMs: number;
}

/** llama-server-like nodes, a little faster than a small GPU model. */
const SIM: SimNodeOptions = { slots: 4, ttftMs: 40, tokensPerSecond: 60 };

export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Defaults except where a default would let one run outlast the whole benchmark: first-token and
 * idle timeouts of 2 s instead of 30 s, a 10 s request deadline instead of 10 min. Breakers, retry
 * budget, routing (latency with affinity) and continuation keep their defaults.
 */
export const BENCH_CONFIG: Omit<GatewayConfigInput, "nodes"> = {
  server: { request_timeout_ms: REQUEST_TIMEOUT_MS, keepalive_interval_ms: 1000 },
  health: { interval_ms: 500, timeout_ms: 500, unhealthy_threshold: 3, healthy_threshold: 2 },
  resilience: { ttft_timeout_ms: 2000, idle_timeout_ms: 2000, response_timeout_ms: 4000 },
};

export async function runScenario(scenario: Scenario, settings: RunSettings): Promise<ScenarioRun> {
  const started = performance.now();
  const fleet = await startFleet([SIM, SIM, SIM], { config: BENCH_CONFIG });
  const watch = new NodeWatch(fleet.gateway.url, "node-0", 25).start();
  try {
    await until(async () => (await fetch(`${fleet.gateway.url}/readyz`)).status === 200, 5000);
    const victim = fleet.sims[0];
    let onsetIndex = Number.POSITIVE_INFINITY;
    let attemptsBefore = 0;
    let onsetAt = 0;
    let openAt: number | undefined;
    let openIndex: number | undefined;
    const records = await runOpenLoop(fleet.gateway.url, {
      ratePerSecond: settings.ratePerSecond,
      durationMs: settings.durationMs,
      seed: settings.seed,
      maxTokens: settings.maxTokens,
      guardMs: REQUEST_TIMEOUT_MS + 5000,
      onSend: (index, elapsedMs) => {
        if (elapsedMs >= settings.onsetMs && onsetIndex === Number.POSITIVE_INFINITY) {
          onsetIndex = index;
          onsetAt = performance.now();
          attemptsBefore = victim?.stats().completionRequests ?? 0;
          if (victim) scenario.inject?.(victim);
        }
        if (openAt === undefined && watch.sawBreaker("open")) {
          openAt = performance.now();
          openIndex = index;
        }
      },
    });
    const during = records.slice(onsetIndex);
    const afterOpen = openIndex === undefined ? [] : records.slice(openIndex);
    return {
      scenario: scenario.name,
      records: during,
      breakerOpenAfterMs: openAt === undefined ? undefined : openAt - onsetAt,
      faultyShareAfterOpen:
        afterOpen.length === 0
          ? undefined
          : afterOpen.filter((record) => record.node === "node-0").length / afterOpen.length,
      faultyAttempts: (victim?.stats().completionRequests ?? 0) - attemptsBefore,
      wallMs: performance.now() - started,
    };
  } finally {
    watch.stop();
    await fleet.close();
  }
}
