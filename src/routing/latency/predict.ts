import { networkPriorMs } from "../../geo/index.js";
import { occupancy, slotsOf } from "../load.js";
import type { NodeView, RequestFeatures } from "../types.js";
import type { LatencyPolicyOptions } from "./options.js";

export type Prediction = Pick<RequestFeatures, "promptTokens" | "maxTokens" | "stream" | "origin">;

/** What the request would find on this node besides the node's own speed. */
export interface Placement {
  /** Prompt tokens the node's slot cache is expected to hold for this request. */
  readonly cachedTokens: number;
  /** Whether the request would take a slot from another conversation rather than reuse its own. */
  readonly claimsSlot: boolean;
}

export const COLD: Placement = Object.freeze({ cachedTokens: 0, claimsSlot: true });

export function msPerPrefillToken(node: NodeView, options: LatencyPolicyOptions): number {
  return 1000 / (node.prefillTokensPerSec || options.defaultPrefillTokensPerSec);
}

/**
 * How long one request holds a slot: measured when the node has served some, else a time to first
 * token plus a typical answer's decode.
 */
export function serviceMsOf(node: NodeView, options: LatencyPolicyOptions): number {
  if (node.serviceMs !== undefined && node.serviceMs > 0) return node.serviceMs;
  const interTokenMs = node.interTokenMs ?? options.defaultInterTokenMs;
  return (node.ttftMs ?? options.defaultTtftMs) + options.typicalOutputTokens * interTokenMs;
}

/**
 * Requests on the node now. Other gateways' requests are known only from the last probe: each one busy
 * then is still running after `age` ms with probability exp(-age / service time), so the reading fades
 * as it ages instead of keeping a node that has just freed its slots looking full for a whole interval.
 */
export function freshOccupancy(node: NodeView, now: number, options: LatencyPolicyOptions): number {
  if (node.probedAt === undefined || node.foreignLoad === 0) return occupancy(node);
  const age = Math.max(0, now - node.probedAt);
  return occupancy(node, Math.exp(-age / serviceMsOf(node, options)));
}

/**
 * Expected cost in milliseconds of sending the request to the node: time to first token (network, the
 * wait for a slot, prefill of the tokens not already cached), plus the delay that prefill imposes on
 * the node's other requests awaiting a first token, plus weighted decode time, plus what evicting
 * another conversation's cache will cost it, plus a charge for the chance the attempt fails and must
 * be retried elsewhere. Lower is better.
 */
export function predictMs(
  node: NodeView,
  request: Prediction,
  placement: Placement,
  now: number,
  options: LatencyPolicyOptions,
): number {
  const interTokenMs = node.interTokenMs ?? options.defaultInterTokenMs;
  const perToken = msPerPrefillToken(node, options);
  const wait = waitMs(node, now, options);
  const uncached = Math.max(0, request.promptTokens - placement.cachedTokens);
  const prefillTokens = uncached + (wait === 0 ? pendingShare(node) : 0);
  const prefillMs = prefillTokens * perToken * sharing(node, now, options);
  const imposedMs = wait === 0 ? delayImposedMs(node, uncached * perToken, options) : 0;
  const decodeWeight = request.stream ? options.streamDecodeWeight : options.blockingDecodeWeight;
  return (
    networkMs(node, request, options) +
    wait +
    prefillMs +
    imposedMs +
    evictionMs(node, request, placement, perToken, options) +
    request.maxTokens * interTokenMs * decodeWeight +
    node.errorRate * options.errorPenaltyMs
  );
}

/**
 * The prompts this gateway has sent the node that are still being evaluated: llama-server evaluates
 * them in the same batch as a new one, so with a slot free the new prompt still waits for its share
 * of them. A short turn beside a long cold prefill is as slow as that prefill.
 */
function pendingShare(node: NodeView): number {
  return (node.pendingPrefillTokens ?? 0) * (node.prefillSharing ?? 1);
}

/**
 * The requests already waiting on the node for a first token share its batch with this prompt: each
 * waits about as long again. It is a cost the pick imposes on others, and on the fleet's mean time to
 * first token.
 */
function delayImposedMs(node: NodeView, ownPrefillMs: number, options: LatencyPolicyOptions): number {
  const waiting = node.prefillingRequests ?? 0;
  return options.externalityWeight * ownPrefillMs * (node.prefillSharing ?? 1) * waiting;
}

/**
 * A llama-server runs all its slots in one batch on one compute budget, so a prefill beside slots that
 * are decoding runs slower than on an idle node: its time grows by `slotContention` × the share of
 * slots in use (the prompts still pending are counted as tokens instead, by `pendingShare`). Without
 * this, every node with a free slot would look the same, and new conversations would pile onto
 * whichever node their system prompt last went to.
 */
function sharing(node: NodeView, now: number, options: LatencyPolicyOptions): number {
  if (options.slotContention === 0 || occupancy(node) === 0) return 1;
  const slots = slotsOf(node, options.defaultSlots);
  const decoding = Math.max(0, freshOccupancy(node, now, options) - (node.prefillingRequests ?? 0));
  return 1 + options.slotContention * Math.min(1, decoding / slots);
}

function networkMs(node: NodeView, request: Prediction, options: LatencyPolicyOptions): number {
  if (node.rttMs !== undefined) return node.rttMs;
  if (request.origin !== undefined && node.location !== undefined) {
    return networkPriorMs(request.origin, node.location);
  }
  return options.defaultNetworkMs;
}

/**
 * With a free slot the request starts at once; otherwise it waits for the requests ahead of it, served
 * `slots` at a time, each holding its slot for the node's service time (a fractional occupancy, from an
 * aged probe reading, gives a proportional wait).
 */
export function waitMs(node: NodeView, now: number, options: LatencyPolicyOptions): number {
  const slots = slotsOf(node, options.defaultSlots);
  // The reading before ageing is an upper bound: when even it leaves a slot free, skip the decay.
  if (occupancy(node) + 1 <= slots) return 0;
  const ahead = freshOccupancy(node, now, options) + 1 - slots;
  if (ahead <= 0) return 0;
  return (ahead / slots) * serviceMsOf(node, options);
}

/**
 * A request that claims a slot on a node whose slots all hold conversations evicts the least recently
 * used one; if that conversation comes back, it pays a prefill of about this request's size.
 */
function evictionMs(
  node: NodeView,
  request: Prediction,
  placement: Placement,
  perToken: number,
  options: LatencyPolicyOptions,
): number {
  if (!placement.claimsSlot) return 0;
  return options.evictionWeight * (node.evictionRisk ?? 0) * request.promptTokens * perToken;
}
