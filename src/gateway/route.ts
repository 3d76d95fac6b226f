import { errors, type GatewayError } from "../errors.js";
import type { FleetRegistry, NodeEntry } from "../fleet/index.js";
import { inAllowedRegion, type RequestFeatures, type RoutingPolicy, servesModel } from "../routing/index.js";

/** Seconds a client is told to wait when no node can take its request. */
const RETRY_AFTER_SECONDS = 2;
/** Breakers try a trial request after a few seconds; a client should not come back sooner. */
const BREAKER_RETRY_AFTER_SECONDS = 5;

export interface Route {
  /** The nodes failover may try, best first. */
  readonly ranked: readonly NodeEntry[];
  /** Policy and reason for the pick, for `x-fleetgate-route`. */
  readonly reason: string;
}

/**
 * Asks the policy for a ranking over the healthy fleet and turns "nowhere to go" into the error a
 * client can act on (see `unavailable`).
 */
export function routeRequest(
  registry: FleetRegistry,
  policy: RoutingPolicy,
  features: RequestFeatures,
  maxAttempts: number,
): Route {
  const decision = policy.rank(registry.snapshot(), features);
  const ranked: NodeEntry[] = [];
  for (const view of decision.ranked) {
    if (ranked.length === maxAttempts) break;
    const entry = registry.get(view.id);
    if (entry) ranked.push(entry);
  }
  if (ranked.length > 0) return { ranked, reason: decision.reason };
  throw unavailable(registry.all(), features);
}

/**
 * Why no node can serve the model now, judged over every configured node, not only the healthy
 * ones: 404 only when no node serves the model nor might (a node never reached has told us no
 * models); otherwise a 503 with Retry-After, since the fleet can serve it once it recovers:
 * `no_node_in_allowed_regions` when residency rules out all that might, `nodes_failing` when all
 * that might are up but their breakers are open, `no_healthy_node` else.
 */
export function unavailable(
  all: readonly NodeEntry[],
  features: Pick<RequestFeatures, "model" | "allowedRegions">,
): GatewayError {
  const mayServe = all.filter((entry) => entry.models.length === 0 || servesModel(entry, features.model));
  if (mayServe.length === 0) return errors.modelNotFound(features.model);
  const allowed = mayServe.filter((entry) => inAllowedRegion(entry, features.allowedRegions));
  if (allowed.length === 0) {
    return errors.noNodeInAllowedRegions(features.allowedRegions ?? new Set(), RETRY_AFTER_SECONDS);
  }
  const up = allowed.filter((entry) => entry.state === "healthy");
  if (up.length > 0 && up.every((entry) => entry.breaker === "open")) {
    return errors.allBreakersOpen(up.length, BREAKER_RETRY_AFTER_SECONDS);
  }
  return errors.noHealthyNode(RETRY_AFTER_SECONDS);
}
