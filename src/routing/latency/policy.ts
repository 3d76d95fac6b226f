import { findEligible } from "../eligibility.js";
import { slotsOf, sortByScore } from "../load.js";
import { randomIndex } from "../random.js";
import type { NodeView, RandomSource, RequestFeatures, RoutingPolicy } from "../types.js";
import { type Affinity, findAffinity } from "./affinity.js";
import { createStatsCache, type FleetStats } from "./fleet-stats.js";
import { type LatencyPolicyOptions, resolveLatencyOptions } from "./options.js";
import { COLD, freshOccupancy, type Placement, predictMs } from "./predict.js";

export const LATENCY_REASONS = Object.freeze({
  plain: "latency",
  p2c: "latency;p2c",
  explore: "latency;explore",
  affinityHit: "latency;affinity=hit",
  affinityOverloaded: "latency;affinity=overloaded",
  /** The affinity node's predicted wait plus the uncached suffix cost more than a full prefill elsewhere. */
  affinitySlower: "latency;affinity=slower",
});

/**
 * Sends each request where its predicted cost (see `predictMs`) is lowest. Large fleets are sampled:
 * the snapshot's leaders, a few random nodes and the affinity node are scored, the rest follow unsorted,
 * since failover rarely walks past the first few entries.
 */
export function createLatencyPolicy(
  random: RandomSource,
  overrides: Partial<LatencyPolicyOptions> = {},
): RoutingPolicy {
  const statsOf = createStatsCache(resolveLatencyOptions(overrides));
  return {
    name: "latency",
    rank(snapshot, request) {
      const { nodes, unavailable } = findEligible(snapshot, request);
      if (nodes.length === 0) return { ranked: [], reason: LATENCY_REASONS.plain, unavailable };
      const now = snapshot.now;
      const stats = statsOf(nodes, now);
      const options = stats.options;
      const affinity = findAffinity(nodes, stats, request, now, options);
      // A conversation whose node holds its prefix is not the one to spend on exploration: losing the
      // cache costs a full prefill, while the next new conversation can measure the cold node for free.
      const holdsPrefix =
        request.rememberedNode !== undefined && affinity !== undefined && !affinity.overloaded;
      const explore = holdsPrefix ? -1 : pickExplore(stats, random, options);
      const order = scoreAndSort(nodes, candidates(nodes.length, stats, affinity, explore, random, options), {
        request,
        affinity,
        now,
        options,
      });
      const reason = chooseFront(nodes, order.indices, order.scores, affinity, explore, random, {
        now,
        options,
      });
      return { ranked: arrange(nodes, order.indices), reason };
    },
  };
}

/** Draws once per decision whether or not it explores, so a seed replays the same sequence. */
function pickExplore(stats: FleetStats, random: RandomSource, options: LatencyPolicyOptions): number {
  const roll = random();
  if (roll >= options.explorationRate || stats.explorable.length === 0) return -1;
  return stats.explorable[randomIndex(random, stats.explorable.length)]!;
}

function candidates(
  size: number,
  stats: FleetStats,
  affinity: Affinity | undefined,
  explore: number,
  random: RandomSource,
  options: LatencyPolicyOptions,
): number[] {
  if (size <= options.sampleThreshold) return Array.from({ length: size }, (_, i) => i);
  const picked = [...stats.leaders];
  addOnce(picked, affinity?.index ?? -1);
  addOnce(picked, explore);
  for (let i = 0; i < options.sampleSize; i++) addOnce(picked, randomIndex(random, size));
  return picked;
}

function addOnce(list: number[], index: number): void {
  if (index >= 0 && !list.includes(index)) list.push(index);
}

interface Clocked {
  readonly now: number;
  readonly options: LatencyPolicyOptions;
}

interface ScoreContext extends Clocked {
  readonly request: RequestFeatures;
  readonly affinity: Affinity | undefined;
}

/** Returns candidate indices best first, with their scores in the same order. */
function scoreAndSort(nodes: readonly NodeView[], picked: number[], context: ScoreContext) {
  const { request, affinity, now, options } = context;
  const scores = picked.map((index) => {
    const placement: Placement =
      index === affinity?.index
        ? { cachedTokens: affinity.cachedTokens, claimsSlot: !affinity.ownsSlot }
        : COLD;
    return predictMs(nodes[index]!, request, placement, now, options);
  });
  const positions = picked.map((_, position) => position);
  sortByScore(positions, scores, picked);
  return { indices: positions.map((p) => picked[p]!), scores: positions.map((p) => scores[p]!) };
}

/** Moves the chosen first node to the front of `indices` and says why it was chosen. */
function chooseFront(
  nodes: readonly NodeView[],
  indices: number[],
  scores: readonly number[],
  affinity: Affinity | undefined,
  explore: number,
  random: RandomSource,
  clocked: Clocked,
): string {
  if (explore >= 0) {
    moveToFront(indices, indices.indexOf(explore));
    return LATENCY_REASONS.explore;
  }
  if (affinity !== undefined && !affinity.overloaded && indices[0] === affinity.index) {
    return LATENCY_REASONS.affinityHit;
  }
  const pickedByP2c = powerOfTwoChoices(nodes, indices, scores, random, clocked);
  if (affinity?.overloaded) return LATENCY_REASONS.affinityOverloaded;
  if (affinity !== undefined && affinity.cachedTokens > 0) return LATENCY_REASONS.affinitySlower;
  return pickedByP2c ? LATENCY_REASONS.p2c : LATENCY_REASONS.plain;
}

/**
 * Among nodes predicted within `nearEqualMs` of the best, two random ones are compared and the less
 * loaded goes first: predictions are noisy and load is stale, and two choices spread traffic
 * exponentially better than one while never picking a clearly worse node.
 */
function powerOfTwoChoices(
  nodes: readonly NodeView[],
  indices: number[],
  scores: readonly number[],
  random: RandomSource,
  { now, options }: Clocked,
): boolean {
  const limit = scores[0]! + options.nearEqualMs;
  let near = 1;
  while (near < scores.length && scores[near]! <= limit) near++;
  if (near < 2) return false;
  const a = randomIndex(random, near);
  let b = randomIndex(random, near - 1);
  if (b >= a) b++;
  const loadOf = (node: NodeView) => freshOccupancy(node, now, options) / slotsOf(node, options.defaultSlots);
  const loadA = loadOf(nodes[indices[a]!]!);
  const loadB = loadOf(nodes[indices[b]!]!);
  moveToFront(indices, loadA < loadB || (loadA === loadB && a < b) ? a : b);
  return true;
}

function moveToFront(indices: number[], position: number): void {
  const [chosen] = indices.splice(position, 1);
  indices.unshift(chosen!);
}

/**
 * The ranked candidates first, then every other eligible node in snapshot order. Swapping into a copy
 * costs one memcpy of the fleet instead of a pass that checks each node against the candidates.
 */
function arrange(nodes: readonly NodeView[], indices: readonly number[]): NodeView[] {
  if (indices.length === nodes.length) return indices.map((i) => nodes[i]!);
  const ranked = nodes.slice();
  const position = indices.slice();
  for (let j = 0; j < indices.length; j++) {
    const from = position[j]!;
    if (from === j) continue;
    const displaced = ranked[j]!;
    ranked[j] = ranked[from]!;
    ranked[from] = displaced;
    const follow = position.indexOf(j, j + 1);
    if (follow >= 0) position[follow] = from;
  }
  return ranked;
}
