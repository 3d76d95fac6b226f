import { estimateChatTokens, estimateTokens } from "../accounting/index.js";
import {
  type PrefixLink,
  prefixChain,
  prefixKeyForChat,
  prefixKeyForPrompt,
  type RequestFeatures,
  systemPromptKey,
} from "../routing/index.js";
import type { Recollection } from "./affinity.js";
import type { RequestView } from "./request-view.js";

export type { ProxiedRequest } from "./request-view.js";

/** Generation length assumed when the client sets none, for the decode-time estimate. */
const DEFAULT_MAX_TOKENS = 256;

export type FeatureContext = Pick<RequestFeatures, "prefixKey" | "origin" | "allowedRegions"> & {
  /** The node known to hold the longest prefix of the request, when one is. */
  readonly recalled: Recollection | undefined;
};

/** The conversation's identity, under which the node that served it is remembered. */
export function conversationKeyOf(view: RequestView): string | undefined {
  // Embeddings, rerank and the tokenizer utilities: no answer to place by affinity.
  if (view.maxTokens === 0) return undefined;
  if (view.messages) return prefixKeyForChat(view.messages);
  return view.prompt === undefined ? undefined : prefixKeyForPrompt(view.prompt);
}

/** The prefixes under which the node that serves the request is remembered, shortest first. */
export function affinityLinksOf(view: RequestView, conversationKey: string | undefined): PrefixLink[] {
  const messages = conversationKey === undefined ? undefined : view.messages;
  if (messages) return prefixChain(messages);
  return conversationKey === undefined ? [] : [{ key: conversationKey, messages: 0 }];
}

/** The prefix a request shares with others, for placement: its system prompt when it has one. */
export function sharedPrefixKeyOf(
  view: RequestView,
  conversationKey: string | undefined,
): string | undefined {
  const messages = conversationKey === undefined ? undefined : view.messages;
  return (messages ? systemPromptKey(messages) : undefined) ?? conversationKey;
}

/** What routing needs to know about a request, read once from its body's view. */
export function requestFeatures(view: RequestView, model: string, context: FeatureContext): RequestFeatures {
  const { recalled, ...place } = context;
  const remembered = { rememberedNode: recalled?.nodeId, ...place };
  const promptTokens = view.messages ? estimateChatTokens(view.messages) : inputTokens(view.prompt);
  if (view.maxTokens === 0) return { model, promptTokens, maxTokens: 0, stream: false, ...remembered };
  return {
    model,
    promptTokens,
    maxTokens: view.maxTokens ?? DEFAULT_MAX_TOKENS,
    stream: view.stream,
    expectedCachedTokens: expectedCached(view, recalled),
    rememberedConversation: recalled !== undefined && ownsConversation(view, recalled),
    ...remembered,
  };
}

/** Prompt tokens the node would evaluate: the whole prompt, less what its cache holds if it is the remembered one. */
export function uncachedTokensOn(nodeId: string, features: RequestFeatures | undefined): number {
  if (features === undefined) return 0;
  const cached = nodeId === features.rememberedNode ? (features.expectedCachedTokens ?? 0) : 0;
  return Math.max(0, features.promptTokens - cached);
}

/**
 * What the remembered node can be expected to hold: the messages of the longest prefix it served. With
 * nothing remembered, only a system prompt others may have sent, credited where it hashes to
 * (rendezvous), which spreads system prompts over the fleet; a prompt never seen before earns no
 * bonus, which would only pull fresh requests onto slower nodes.
 */
function expectedCached(view: RequestView, recalled: Recollection | undefined): number | undefined {
  const messages = view.messages;
  if (!messages) return recalled ? undefined : 0;
  if (recalled) return estimateChatTokens(messages.slice(0, recalled.messages));
  const leading = leadingInstructions(messages);
  return leading === 0 || leading === messages.length ? 0 : estimateChatTokens(messages.slice(0, leading));
}

/** Whether the match reaches past the shared instructions into this conversation's own messages. */
function ownsConversation(view: RequestView, recalled: Recollection): boolean {
  return !view.messages || recalled.messages > leadingInstructions(view.messages);
}

function leadingInstructions(messages: NonNullable<RequestView["messages"]>): number {
  const first = messages.findIndex((message) => message.role !== "system" && message.role !== "developer");
  return first < 0 ? messages.length : first;
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
