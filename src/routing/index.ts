import { createLeastLoadedPolicy, createRandomPolicy, createRoundRobinPolicy } from "./baselines.js";
import type { LatencyPolicyOptions } from "./latency/options.js";
import { createLatencyPolicy } from "./latency/policy.js";
import type { RandomSource, RoutingPolicy } from "./types.js";

export { createLeastLoadedPolicy, createRandomPolicy, createRoundRobinPolicy } from "./baselines.js";
export { type Eligibility, findEligible, inAllowedRegion, servesModel } from "./eligibility.js";
export {
  DEFAULT_LATENCY_OPTIONS,
  type LatencyPolicyOptions,
  resolveLatencyOptions,
} from "./latency/options.js";
export { createLatencyPolicy, LATENCY_REASONS } from "./latency/policy.js";
export { loadRatio, occupancy } from "./load.js";
export { CHAIN_EDGE_LINKS, LINK_EDGE_CHARS, type PrefixLink, prefixChain } from "./prefix-chain.js";
export {
  PREFIX_KEY_MAX_CHARS,
  type PrefixMessage,
  prefixKeyForChat,
  prefixKeyForPrompt,
  systemPromptKey,
} from "./prefix-key.js";
export { createRandom } from "./random.js";
export type * from "./types.js";

export const ROUTING_STRATEGIES = ["latency", "round-robin", "random", "least-loaded"] as const;
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

export interface RoutingPolicyOptions {
  readonly random: RandomSource;
  readonly latency?: Partial<LatencyPolicyOptions>;
}

export function createRoutingPolicy(name: RoutingStrategy, options: RoutingPolicyOptions): RoutingPolicy {
  switch (name) {
    case "latency":
      return createLatencyPolicy(options.random, options.latency);
    case "round-robin":
      return createRoundRobinPolicy();
    case "random":
      return createRandomPolicy(options.random);
    case "least-loaded":
      return createLeastLoadedPolicy(options.random);
  }
}
