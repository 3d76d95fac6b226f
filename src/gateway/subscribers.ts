import type { Quotas } from "../accounting/index.js";
import { CLIENT_CLOSED_CODE } from "../errors.js";
import type { FleetRegistry } from "../fleet/index.js";
import type { TtftTracker } from "../resilience/index.js";
import type { AffinityMemory } from "./affinity.js";
import type { OutcomeSubscriber } from "./outcome.js";

/** Every attempt's observation goes into its node's live statistics; a failed connect counts against health. */
export function nodeStatistics(registry: FleetRegistry): OutcomeSubscriber {
  return function recordNodeStatistics(outcome) {
    for (const attempt of outcome.attempts) {
      registry.get(attempt.nodeId)?.observe(attempt.observation);
      if (attempt.errorCode === "upstream_unreachable") registry.recordConnectFailure(attempt.nodeId);
    }
  };
}

/** The node that answered now holds the conversation's prefix in its slot cache: remember it. */
export function affinityMemory(affinity: AffinityMemory, registry: FleetRegistry): OutcomeSubscriber {
  return function rememberServingNode(outcome) {
    if (outcome.servedBy === undefined || outcome.affinityKeys.length === 0) return;
    affinity.remember(outcome.servedBy, ...outcome.affinityKeys);
    registry.get(outcome.servedBy)?.holdConversation(outcome.affinityKeys[0]!);
  };
}

/** Streams' times to first token per node, from which hedging takes its delays. */
export function hedgeDelays(ttft: TtftTracker): OutcomeSubscriber {
  return function observeStreamTtft(outcome) {
    if (!outcome.stream) return;
    for (const attempt of outcome.attempts) {
      const { ok, ttftMs } = attempt.observation;
      if (ok && ttftMs !== undefined && !attempt.continuation) ttft.observe(attempt.nodeId, ttftMs);
    }
  };
}

/**
 * Settles the call's quota reservation to what it really used and writes the usage ledger; the
 * quotas send the settlements of many calls in one store round trip.
 */
export function quotaSettlement(quotas: Quotas, now: () => number): OutcomeSubscriber {
  return function settleQuota(outcome) {
    const cacheHit = outcome.cache === "hit";
    quotas.settle({
      keyId: outcome.keyId,
      tenant: outcome.tenant,
      model: outcome.model,
      node: cacheHit ? undefined : outcome.servedBy,
      // A client that left is not a failure of the call.
      failed:
        (outcome.status >= 400 || outcome.errorCode !== undefined) &&
        outcome.errorCode !== CLIENT_CLOSED_CODE,
      cacheHit,
      at: now(),
      reservation: outcome.reservation,
      usage: outcome.usage,
      delivered: outcome.ttftMs !== undefined,
    });
  };
}
