import { fnv1a32, mix32 } from "../hash.js";
import { occupancy, slotsOf } from "../load.js";
import type { NodeView, RequestFeatures } from "../types.js";
import { type FleetStats, idHashesOf } from "./fleet-stats.js";
import type { LatencyPolicyOptions } from "./options.js";
import { freshOccupancy } from "./predict.js";

export interface Affinity {
  /** Index in the eligible list of the node that likely holds the request's prefix. */
  readonly index: number;
  /** Prompt tokens that node should not have to prefill again; 0 when it is a hotspot. */
  readonly cachedTokens: number;
  /** Whether the request continues a conversation there, reusing its own slot rather than claiming one. */
  readonly ownsSlot: boolean;
  readonly overloaded: boolean;
}

type AffinityRequest = Pick<
  RequestFeatures,
  "prefixKey" | "rememberedNode" | "rememberedConversation" | "promptTokens" | "expectedCachedTokens"
>;

/**
 * The remembered node when still eligible, else the rendezvous (highest random weight) winner for the
 * prefix key, which moves only the keys of a node that joins or leaves.
 */
export function findAffinity(
  nodes: readonly NodeView[],
  stats: FleetStats,
  request: AffinityRequest,
  now: number,
  options: LatencyPolicyOptions,
): Affinity | undefined {
  let index = request.rememberedNode === undefined ? -1 : indexOfId(nodes, stats, request.rememberedNode);
  if (index < 0 && request.prefixKey !== undefined) index = rendezvous(nodes, stats, request.prefixKey);
  if (index < 0) return undefined;
  const overloaded = isHotspot(nodes[index]!, stats, now, options);
  const expected = request.expectedCachedTokens ?? request.promptTokens * options.prefixShare;
  const cachedTokens = overloaded ? 0 : Math.max(0, Math.min(request.promptTokens, expected));
  return {
    index,
    cachedTokens,
    ownsSlot: request.rememberedConversation === true && request.rememberedNode === nodes[index]!.id,
    overloaded,
  };
}

/**
 * The guard against a prefix pulling more traffic onto one node than it can serve (what consistent
 * hashing with bounded loads guards against), acting on real hotspots only: a queue of at least
 * `hotspotQueuePerSlot` requests per slot behind its busy slots, and a load per slot above (1+ε)× the
 * fleet's mean with this request counted. Below that the predicted wait, set against a full prefill
 * elsewhere, decides.
 */
export function isHotspot(
  node: NodeView,
  stats: FleetStats,
  now: number,
  options: LatencyPolicyOptions,
): boolean {
  const slots = slotsOf(node, options.defaultSlots);
  if (occupancy(node) - slots < options.hotspotQueuePerSlot * slots) return false;
  const load = freshOccupancy(node, now, options);
  if (load - slots < options.hotspotQueuePerSlot * slots) return false;
  const meanPerSlot = (stats.totalOccupancy + 1) / stats.totalSlots;
  return load / slots > (1 + options.affinityLoadEpsilon) * meanPerSlot;
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
