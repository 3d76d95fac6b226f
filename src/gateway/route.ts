import { errors } from "../errors.js";
import type { FleetRegistry, NodeEntry } from "../fleet/index.js";
import type { RequestFeatures, RoutingPolicy } from "../routing/index.js";

/** Seconds a client is told to wait when no node can take its request. */
const RETRY_AFTER_SECONDS = 2;

export interface Route {
  /** The nodes failover may try, best first. */
  readonly ranked: readonly NodeEntry[];
  /** Policy and reason for the pick, for `x-fleetgate-route`. */
  readonly reason: string;
}

/**
 * Asks the policy for a ranking over the healthy fleet and turns "nowhere to go" into the error a
 * client can act on: 503 with no healthy node, 404 for a model nobody serves, 503 when residency
 * rules out every node that does.
 */
export function routeRequest(
  registry: FleetRegistry,
  policy: RoutingPolicy,
  features: RequestFeatures,
  maxAttempts: number,
): Route {
  const snapshot = registry.snapshot();
  if (snapshot.nodes.length === 0) throw errors.noHealthyNode(RETRY_AFTER_SECONDS);
  const decision = policy.rank(snapshot, features);
  const ranked: NodeEntry[] = [];
  for (const view of decision.ranked) {
    if (ranked.length === maxAttempts) break;
    const entry = registry.get(view.id);
    if (entry) ranked.push(entry);
  }
  if (ranked.length > 0) return { ranked, reason: decision.reason };
  if (decision.unavailable === "region-not-allowed") {
    throw errors.noNodeInAllowedRegions(features.allowedRegions ?? new Set(), RETRY_AFTER_SECONDS);
  }
  if (decision.unavailable === "model-not-served") throw errors.modelNotFound(features.model);
  throw errors.noHealthyNode(RETRY_AFTER_SECONDS);
}
