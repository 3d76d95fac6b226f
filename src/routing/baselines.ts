import { findEligible } from "./eligibility.js";
import { DEFAULT_SLOTS, loadRatio, sortByScore } from "./load.js";
import { randomIndex } from "./random.js";
import type {
  FleetSnapshot,
  NodeView,
  RandomSource,
  RequestFeatures,
  RouteDecision,
  RoutingPolicy,
} from "./types.js";

/**
 * Honest baselines to measure the latency policy against. Each one shares the eligibility filter and
 * differs only in how it orders the eligible nodes.
 */
type Order = (nodes: readonly NodeView[], request: RequestFeatures) => NodeView[];

function baseline(name: string, order: Order): RoutingPolicy {
  return {
    name,
    rank(snapshot: FleetSnapshot, request: RequestFeatures): RouteDecision {
      const { nodes, unavailable } = findEligible(snapshot, request);
      if (nodes.length === 0) return { ranked: [], reason: name, unavailable };
      return { ranked: order(nodes, request), reason: name };
    },
  };
}

/** One cursor per model, so traffic to a small model does not skew the rotation of a large one. */
export function createRoundRobinPolicy(): RoutingPolicy {
  const cursors = new Map<string, number>();
  return baseline("round-robin", (nodes, request) => {
    const start = (cursors.get(request.model) ?? 0) % nodes.length;
    cursors.set(request.model, start + 1);
    return Array.from({ length: nodes.length }, (_, i) => nodes[(start + i) % nodes.length]!);
  });
}

/** Failover rarely walks far, so only the head is shuffled; the tail keeps snapshot order. */
const SHUFFLED_HEAD = 8;

export function createRandomPolicy(random: RandomSource): RoutingPolicy {
  return baseline("random", (nodes) => {
    const ranked = nodes.slice();
    const head = Math.min(SHUFFLED_HEAD, ranked.length - 1);
    for (let i = 0; i < head; i++) {
      const j = i + randomIndex(random, ranked.length - i);
      const swap = ranked[i]!;
      ranked[i] = ranked[j]!;
      ranked[j] = swap;
    }
    return ranked;
  });
}

/** Orders by (inFlight + deferred) / slots; equal loads are broken at random so ties share traffic. */
export function createLeastLoadedPolicy(random: RandomSource): RoutingPolicy {
  return baseline("least-loaded", (nodes) => {
    const loads = nodes.map((node) => loadRatio(node, DEFAULT_SLOTS));
    const ties = nodes.map(() => random());
    const order = nodes.map((_, i) => i);
    sortByScore(order, loads, ties);
    return order.map((i) => nodes[i]!);
  });
}
