import { estimateChatTokens, estimateTokens } from "../accounting/index.js";
import type { ChatCompletionRequest, CompletionRequest, EmbeddingRequest } from "../openai/index.js";
import {
  type PrefixLink,
  prefixChain,
  prefixKeyForChat,
  prefixKeyForPrompt,
  type RequestFeatures,
  systemPromptKey,
} from "../routing/index.js";
import type { Recollection } from "./affinity.js";

/** A validated body, tagged with its endpoint so the fields it has are known. */
export type ProxiedRequest =
  | { readonly kind: "chat"; readonly body: ChatCompletionRequest }
  | { readonly kind: "completions"; readonly body: CompletionRequest }
  | { readonly kind: "embeddings"; readonly body: EmbeddingRequest };

/** Generation length assumed when the client sets none, for the decode-time estimate. */
const DEFAULT_MAX_TOKENS = 256;

export type FeatureContext = Pick<RequestFeatures, "prefixKey" | "origin" | "allowedRegions"> & {
  /** The node known to hold the longest prefix of the request, when one is. */
  readonly recalled: Recollection | undefined;
};

/** The conversation's identity, under which the node that served it is remembered. */
export function conversationKeyOf(request: ProxiedRequest): string | undefined {
  if (request.kind === "chat") return prefixKeyForChat(request.body.messages);
  if (request.kind === "completions") return prefixKeyForPrompt(request.body.prompt);
  return undefined;
}

/** The prefixes under which the node that serves the request is remembered, shortest first. */
export function affinityLinksOf(request: ProxiedRequest, conversationKey: string | undefined): PrefixLink[] {
  if (request.kind === "chat") return prefixChain(request.body.messages);
  return conversationKey === undefined ? [] : [{ key: conversationKey, messages: 0 }];
}

/** The prefix a request shares with others, for placement: its system prompt when it has one. */
export function sharedPrefixKeyOf(
  request: ProxiedRequest,
  conversationKey: string | undefined,
): string | undefined {
  return (request.kind === "chat" ? systemPromptKey(request.body.messages) : undefined) ?? conversationKey;
}

/** What routing needs to know about a request, read once from its validated body. */
export function requestFeatures(request: ProxiedRequest, context: FeatureContext): RequestFeatures {
  const { recalled, ...place } = context;
  const remembered = { rememberedNode: recalled?.nodeId, ...place };
  if (request.kind === "embeddings") {
    return {
      model: request.body.model,
      promptTokens: inputTokens(request.body.input),
      maxTokens: 0,
      stream: false,
      ...remembered,
    };
  }
  const body = request.body;
  return {
    model: body.model,
    promptTokens:
      request.kind === "chat" ? estimateChatTokens(request.body.messages) : inputTokens(request.body.prompt),
    maxTokens: body.max_tokens ?? body.max_completion_tokens ?? DEFAULT_MAX_TOKENS,
    stream: body.stream === true,
    expectedCachedTokens: expectedCached(request, recalled),
    rememberedConversation: recalled !== undefined && ownsConversation(request, recalled),
    ...remembered,
  };
}

/**
 * What the remembered node can be expected to hold: the messages of the longest prefix it served. With
 * nothing remembered, only a system prompt others may have sent, credited where it hashes to
 * (rendezvous), which spreads system prompts over the fleet; a prompt never seen before earns no
 * bonus, which would only pull fresh requests onto slower nodes.
 */
function expectedCached(request: ProxiedRequest, recalled: Recollection | undefined): number | undefined {
  if (request.kind !== "chat") return recalled ? undefined : 0;
  const messages = request.body.messages;
  if (recalled) return estimateChatTokens(messages.slice(0, recalled.messages));
  const leading = leadingInstructions(request);
  return leading === 0 || leading === messages.length ? 0 : estimateChatTokens(messages.slice(0, leading));
}

/** Whether the match reaches past the shared instructions into this conversation's own messages. */
function ownsConversation(request: ProxiedRequest, recalled: Recollection): boolean {
  return request.kind !== "chat" || recalled.messages > leadingInstructions(request);
}

function leadingInstructions(request: Extract<ProxiedRequest, { kind: "chat" }>): number {
  const messages = request.body.messages;
  const first = messages.findIndex((message) => message.role !== "system" && message.role !== "developer");
  return first < 0 ? messages.length : first;
}

function inputTokens(input: string | ReadonlyArray<string | number | readonly number[]>): number {
  if (typeof input === "string") return estimateTokens(input);
  let total = 0;
  for (const item of input) {
    total += typeof item === "string" ? estimateTokens(item) : typeof item === "number" ? 1 : item.length;
  }
  return total;
}
