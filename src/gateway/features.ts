import { estimateChatTokens, estimateTokens } from "../accounting/index.js";
import {
  prefixKeyForChat,
  prefixKeyForPrompt,
  type RequestFeatures,
  systemPromptKey,
} from "../routing/index.js";
import { type ProxiedRequest, type RequestView, viewOf } from "./request-view.js";

export type { ProxiedRequest } from "./request-view.js";

/** Generation length assumed when the client sets none, for the decode-time estimate. */
const DEFAULT_MAX_TOKENS = 256;

export type FeatureContext = Pick<
  RequestFeatures,
  "prefixKey" | "rememberedNode" | "origin" | "allowedRegions"
>;

/** The conversation's identity, under which the node that served it is remembered. */
export function conversationKeyOf(request: ProxiedRequest): string | undefined {
  const view = viewOf(request);
  // Embeddings, rerank and the tokenizer utilities: no answer to place by affinity.
  if (view.maxTokens === 0) return undefined;
  if (view.messages) return prefixKeyForChat(view.messages);
  return view.prompt === undefined ? undefined : prefixKeyForPrompt(view.prompt);
}

/** The prefix a request shares with others, for placement: its system prompt when it has one. */
export function sharedPrefixKeyOf(
  request: ProxiedRequest,
  conversationKey: string | undefined,
): string | undefined {
  const messages = conversationKey === undefined ? undefined : viewOf(request).messages;
  return (messages ? systemPromptKey(messages) : undefined) ?? conversationKey;
}

/** What routing needs to know about a request, read once from its validated body. */
export function requestFeatures(
  request: ProxiedRequest,
  model: string,
  context: FeatureContext,
): RequestFeatures {
  const view = viewOf(request);
  const promptTokens = view.messages ? estimateChatTokens(view.messages) : inputTokens(view.prompt);
  if (view.maxTokens === 0) return { model, promptTokens, maxTokens: 0, stream: false, ...context };
  return {
    model,
    promptTokens,
    maxTokens: view.maxTokens ?? DEFAULT_MAX_TOKENS,
    stream: view.stream,
    expectedCachedTokens: expectedCached(view, context.rememberedNode !== undefined),
    ...context,
  };
}

/**
 * What the affinity node can be expected to hold. A remembered chat: everything before the newest
 * message, sent on the previous turn. Otherwise only a system prompt others may have sent; a prompt
 * never seen before earns no bonus, which would only pull fresh requests onto slower nodes.
 */
function expectedCached(view: RequestView, remembered: boolean): number | undefined {
  const messages = view.messages;
  if (!messages) return remembered ? undefined : 0;
  if (remembered) return estimateChatTokens(messages.slice(0, -1));
  const leading = messages.findIndex((message) => message.role !== "system" && message.role !== "developer");
  return leading <= 0 ? 0 : estimateChatTokens(messages.slice(0, leading));
}

function inputTokens(input: RequestView["prompt"]): number {
  if (input === undefined) return 0;
  if (typeof input === "string") return estimateTokens(input);
  let total = 0;
  for (const item of input) {
    total += typeof item === "string" ? estimateTokens(item) : typeof item === "number" ? 1 : item.length;
  }
  return total;
}
