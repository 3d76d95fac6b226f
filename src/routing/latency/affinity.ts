import { fnv1a32, mix32 } from "../hash.js";
import { occupancy, slotsOf } from "../load.js";
import type { NodeView, RequestFeatures } from "../types.js";
import { type FleetStats, idHashesOf } from "./fleet-stats.js";
import type { LatencyPolicyOptions } from "./options.js";

export interface Affinity {
  /** Index in the eligible list of the node that likely holds the request's prefix. */
  readonly index: number;
  /** Prompt tokens that node should not have to prefill again; 0 when it is over its load bound. */
  readonly cachedTokens: number;
  readonly overloaded: boolean;
}

type AffinityRequest = Pick<
  RequestFeatures,
  "prefixKey" | "rememberedNode" | "promptTokens" | "expectedCachedTokens"
>;

/**
 * The remembered node when still eligible, else the rendezvous (highest random weight) winner for the
 * prefix key, which moves only the keys of a node that joins or leaves.
 */
export function findAffinity(
  nodes: readonly NodeView[],
  stats: FleetStats,
  request: AffinityRequest,
  options: LatencyPolicyOptions,
): Affinity | undefined {
  let index = request.rememberedNode === undefined ? -1 : indexOfId(nodes, stats, request.rememberedNode);
  if (index < 0 && request.prefixKey !== undefined) index = rendezvous(nodes, stats, request.prefixKey);
  if (index < 0) return undefined;
  const overloaded = !withinLoadBound(nodes[index]!, stats, options);
  const expected = request.expectedCachedTokens ?? request.promptTokens * options.prefixShare;
  const cachedTokens = overloaded ? 0 : Math.max(0, Math.min(request.promptTokens, expected));
  return { index, cachedTokens, overloaded };
}

/**
 * Consistent hashing with bounded loads (Mirrokni et al.): with this request placed, a node without a
 * free slot may hold
 * at most ceil((1+ε) × mean) requests, the mean being taken per slot so bigger nodes take more. The
 * ceiling and the counted request keep an idle fleet from refusing affinity outright.
 */
export function withinLoadBound(node: NodeView, stats: FleetStats, options: LatencyPolicyOptions): boolean {
  const slots = slotsOf(node, options.defaultSlots);
  // A free slot means no queue: the cache hit costs nothing, however busy the node is next to the mean.
  if (occupancy(node) < slots) return true;
  const share = slots / stats.totalSlots;
  const bound = Math.ceil((1 + options.affinityLoadEpsilon) * (stats.totalOccupancy + 1) * share);
  return occupancy(node) + 1 <= bound;
}

/** Compares hashes first so that most nodes are rejected without touching their id strings. */
function indexOfId(nodes: readonly NodeView[], stats: FleetStats, id: string): number {
  const hashes = idHashesOf(stats, nodes);
  const wanted = fnv1a32(id);
  for (let i = 0; i < hashes.length; i++) {
    if (hashes[i] === wanted && nodes[i]!.id === id) return i;
  }
  return -1;
}

function rendezvous(nodes: readonly NodeView[], stats: FleetStats, prefixKey: string): number {
  const hashes = idHashesOf(stats, nodes);
  const key = fnv1a32(prefixKey);
  let best = -1;
  let bestWeight = -1;
  for (let i = 0; i < hashes.length; i++) {
    const weight = mix32(hashes[i]! ^ key);
    if (weight > bestWeight) {
      bestWeight = weight;
      best = i;
    }
  }
  return best;
}
