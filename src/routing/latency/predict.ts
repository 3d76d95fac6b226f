import { networkPriorMs } from "../../geo/index.js";
import { occupancy, slotsOf } from "../load.js";
import type { NodeView, RequestFeatures } from "../types.js";
import type { LatencyPolicyOptions } from "./options.js";

export type Prediction = Pick<RequestFeatures, "promptTokens" | "maxTokens" | "stream" | "origin">;

export function msPerPrefillToken(node: NodeView, options: LatencyPolicyOptions): number {
  return 1000 / (node.prefillTokensPerSec || options.defaultPrefillTokensPerSec);
}

/**
 * Expected cost in milliseconds of sending the request to the node: time to first token (network,
 * queueing, prefill of the tokens not already cached), plus weighted decode time, plus a charge for
 * the chance the attempt fails and must be retried elsewhere. Lower is better.
 */
export function predictMs(
  node: NodeView,
  request: Prediction,
  cachedTokens: number,
  options: LatencyPolicyOptions,
): number {
  const interTokenMs = node.interTokenMs ?? options.defaultInterTokenMs;
  const prefillMs = Math.max(0, request.promptTokens - cachedTokens) * msPerPrefillToken(node, options);
  const decodeWeight = request.stream ? options.streamDecodeWeight : options.blockingDecodeWeight;
  return (
    networkMs(node, request, options) +
    queueMs(node, interTokenMs, options) +
    prefillMs +
    request.maxTokens * interTokenMs * decodeWeight +
    node.errorRate * options.errorPenaltyMs
  );
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
 * `slots` at a time, each taking about one time-to-first-token plus a typical answer's decode.
 */
function queueMs(node: NodeView, interTokenMs: number, options: LatencyPolicyOptions): number {
  const slots = slotsOf(node, options.defaultSlots);
  const ahead = occupancy(node) + 1 - slots;
  if (ahead <= 0) return 0;
  const serviceMs = (node.ttftMs ?? options.defaultTtftMs) + options.typicalOutputTokens * interTokenMs;
  return (ahead / slots) * serviceMs;
}
