import type { NodeView, RequestFeatures } from "../routing/index.js";

/**
 * Paces assumed for a node not measured yet: the slow end of what llama-server does on a GPU, so a
 * cold node is not blamed for an answer that was simply long. Measured paces replace them after the
 * node's first answer.
 */
const UNMEASURED_MS_PER_TOKEN = 50;
const UNMEASURED_PREFILL_TOKENS_PER_SEC = 500;
/** A node may run this many times slower than its own pace before the ask stops excusing it. */
const SLACK = 2;

type Pace = Pick<
  NodeView,
  "interTokenMs" | "prefillTokensPerSec" | "pendingPrefillTokens" | "prefillSharing"
>;
type Ask = Pick<RequestFeatures, "promptTokens" | "maxTokens"> | undefined;

/**
 * Time limits cover a node's overhead; the work a request asks for is added on top at the node's
 * observed pace. So a client asking for a long prompt or answer waits longer instead of making the
 * node look broken, while a node slower than its own pace by more than SLACK is still found out.
 */
export function prefillAllowanceMs(node: Pace, ask: Ask): number {
  const perSecond = node.prefillTokensPerSec ?? UNMEASURED_PREFILL_TOKENS_PER_SEC;
  // The prompts pending on the node (this one's among them, which errs on the generous side) share its batch.
  const pending = (node.pendingPrefillTokens ?? 0) * (node.prefillSharing ?? 1);
  return SLACK * ((((ask?.promptTokens ?? 0) + pending) * 1000) / perSecond);
}

/** The same for a whole answer: its prompt and every token it may generate. */
export function answerAllowanceMs(node: Pace, ask: Ask): number {
  const decodeMs = (ask?.maxTokens ?? 0) * (node.interTokenMs ?? UNMEASURED_MS_PER_TOKEN);
  return prefillAllowanceMs(node, ask) + SLACK * decodeMs;
}
