import { networkPriorMs, resolveRegion } from "../../src/geo/index.js";

/** Where the gateway runs; every node's injected round trip follows from its distance to here. */
export const GATEWAY_REGION = "fra";

export interface NodeSpec {
  readonly id: string;
  readonly region: string;
  readonly slots: number;
  /** Decode speed per slot. */
  readonly tokensPerSecond: number;
  readonly prefillTokensPerSecond: number;
  /** Fixed overhead before the first token. */
  readonly ttftMs: number;
}

/**
 * A heterogeneous fleet: a big but slow-decoding box next door, a small fast one, mid-range nodes
 * around Europe, a strong node across the Atlantic and a weak one in Asia. No single number (slots,
 * speed, distance) ranks them, so a policy has to weigh all of them.
 */
export const FLEET: readonly NodeSpec[] = [
  { id: "fra-big", region: "fra", slots: 8, tokensPerSecond: 40, prefillTokensPerSecond: 2000, ttftMs: 30 },
  { id: "fra-fast", region: "fra", slots: 4, tokensPerSecond: 100, prefillTokensPerSecond: 4000, ttftMs: 20 },
  { id: "ams", region: "ams", slots: 4, tokensPerSecond: 60, prefillTokensPerSecond: 1500, ttftMs: 30 },
  { id: "waw", region: "waw", slots: 2, tokensPerSecond: 80, prefillTokensPerSecond: 3000, ttftMs: 25 },
  { id: "mad", region: "mad", slots: 6, tokensPerSecond: 30, prefillTokensPerSecond: 1000, ttftMs: 40 },
  { id: "iad", region: "iad", slots: 8, tokensPerSecond: 100, prefillTokensPerSecond: 4000, ttftMs: 20 },
  { id: "sin", region: "sin", slots: 8, tokensPerSecond: 20, prefillTokensPerSecond: 500, ttftMs: 60 },
];

/** The node that turns slow in workload (c): the one a good policy leans on most. */
export const SLOW_NODE_ID = "fra-fast";

/** Even a node in the same metro sits in another data centre; the far side of the world is capped. */
const RTT_BOUNDS_MS = [5, 150] as const;

/** Round trip the sim injects: the same great-circle estimate the gateway uses as its prior. */
export function rttMsOf(spec: NodeSpec): number {
  const here = resolveRegion(GATEWAY_REGION);
  const there = resolveRegion(spec.region);
  if (!here || !there) throw new Error(`unknown region in the benchmark fleet: ${spec.region}`);
  const [min, max] = RTT_BOUNDS_MS;
  return Math.round(Math.min(max, Math.max(min, networkPriorMs(here, there))));
}
