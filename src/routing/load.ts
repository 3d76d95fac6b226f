import type { NodeView } from "./types.js";

/** llama-server runs one slot unless told otherwise, so an unknown slot count is the cautious guess. */
export const DEFAULT_SLOTS = 1;

/**
 * Requests occupying or waiting for the node. `inFlight` is live but counts only this gateway;
 * `slotsBusy` also counts other gateways' requests but is as old as the last probe, so take the larger.
 */
export function occupancy(node: NodeView): number {
  return Math.max(node.inFlight, node.slotsBusy) + node.deferred;
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
