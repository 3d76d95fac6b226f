import type { NodeView } from "./types.js";

/** llama-server runs one slot unless told otherwise, so an unknown slot count is the cautious guess. */
export const DEFAULT_SLOTS = 1;

/**
 * Requests occupying or waiting for the node: this gateway's own, which are live, plus other gateways'
 * as the last probe saw them, weighted by `foreignWeight` (the share of that reading still believed).
 */
export function occupancy(node: NodeView, foreignWeight = 1): number {
  const foreign = node.foreignLoad ?? Math.max(0, node.slotsBusy + node.deferred - node.inFlight);
  return node.inFlight + foreign * foreignWeight;
}

export function slotsOf(node: NodeView, defaultSlots: number): number {
  const slots = node.slotsTotal ?? defaultSlots;
  return slots > 0 ? slots : defaultSlots;
}

/** Occupancy per slot: 1 means every slot busy, above 1 means a queue. */
export function loadRatio(node: NodeView, defaultSlots: number): number {
  return occupancy(node) / slotsOf(node, defaultSlots);
}

/**
 * Sorts `order` (indices into `scores`) by ascending score; ties go to the lower tie-breaker, so passing
 * random tie-breakers makes equal nodes share traffic instead of the first one taking it all.
 */
export function sortByScore(order: number[], scores: ArrayLike<number>, tieBreak: ArrayLike<number>): void {
  order.sort((a, b) => scores[a]! - scores[b]! || tieBreak[a]! - tieBreak[b]!);
}
