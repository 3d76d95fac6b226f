import { buildConfig } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import type { RoutingStrategy } from "../../src/routing/index.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { silentLogger } from "../../src/telemetry/index.js";
import { type DelayProxy, startDelayProxy } from "./delay-proxy.js";
import { FLEET, GATEWAY_REGION, type NodeSpec, rttMsOf, SLOW_NODE_ID } from "./fleet-spec.js";

export const MODEL = "bench";

/** What a run drives traffic through, and the knobs it may turn during the run. */
export interface BenchFleet {
  readonly baseUrl: string;
  /** Makes the designated node slow (or fast again) from now on. */
  setSlowdownMs(ms: number): void;
  readonly slowNodeId: string | undefined;
  close(): Promise<void>;
}

/** Node endpoints a gateway can be put in front of: simulated here, real llama-servers in `--llama`. */
export interface NodeTarget {
  readonly id: string;
  readonly url: string;
  readonly region: string;
}

/** Fast probes: a node's load and round trip are at most a quarter second old. */
const HEALTH = { interval_ms: 250, timeout_ms: 1000, unhealthy_threshold: 3, healthy_threshold: 2 };
/** Headers (naming the node) go out by then even while the first token is still coming. */
const KEEPALIVE_MS = 250;
/**
 * What an operator with the workload's 1 s time-to-first-token budget would set, the same for every
 * policy: give up on a node's first token well inside the budget (so failover still fits in it), and
 * hedge to the next node once a node is slower than its own p95.
 */
const RESILIENCE = { ttft_timeout_ms: 900, hedging: true };

export async function startGatewayFor(
  strategy: RoutingStrategy,
  targets: readonly NodeTarget[],
  resilience: { ttft_timeout_ms: number; hedging: boolean } = RESILIENCE,
): Promise<RunningGateway> {
  const config = buildConfig({
    server: { host: "127.0.0.1", port: 0, keepalive_interval_ms: KEEPALIVE_MS },
    location: { region: GATEWAY_REGION },
    health: HEALTH,
    routing: { strategy },
    resilience,
    nodes: targets.map((t) => ({ id: t.id, url: t.url, region: t.region })),
  });
  return startGateway(config, silentLogger);
}

function startSim(spec: NodeSpec, index: number): Promise<SimNode> {
  return startSimNode({
    model: MODEL,
    region: spec.region,
    slots: spec.slots,
    ttftMs: spec.ttftMs,
    tokensPerSecond: spec.tokensPerSecond,
    prefillTokensPerSecond: spec.prefillTokensPerSecond,
    rttMs: rttMsOf(spec),
    nCtx: 8192,
    seed: 1000 + index,
  });
}

/** A fresh simulated fleet and gateway per run, so no cache or statistic leaks from one policy to the next. */
export async function startSimFleet(strategy: RoutingStrategy): Promise<BenchFleet> {
  const sims = await Promise.all(FLEET.map(startSim));
  const slowIndex = FLEET.findIndex((spec) => spec.id === SLOW_NODE_ID);
  // Every run has the proxy, slowed or not, so runs with and without the slowdown differ only in it.
  const proxy: DelayProxy = await startDelayProxy(sims[slowIndex]!.url);
  const targets = FLEET.map((spec, i) => ({
    id: spec.id,
    region: spec.region,
    url: i === slowIndex ? proxy.url : sims[i]!.url,
  }));
  const gateway = await startGatewayFor(strategy, targets);
  return {
    baseUrl: gateway.url,
    slowNodeId: SLOW_NODE_ID,
    setSlowdownMs: (ms) => proxy.setDelayMs(ms),
    async close() {
      await gateway.close();
      await proxy.close();
      for (const sim of sims) sim.kill();
    },
  };
}
