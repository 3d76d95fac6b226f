import {
  type ApplyTemplateRequest,
  type ChatCompletionRequest,
  type CompletionRequest,
  type DetokenizeRequest,
  type EmbeddingRequest,
  endpoints,
  type InfillRequest,
  type MessagesRequest,
  type RerankRequest,
  type ResponsesRequest,
  type TokenizeRequest,
} from "../openai/index.js";
import type { PrefixMessage } from "../routing/index.js";

/** A validated body, tagged with its endpoint so the fields it has are known. */
export type ProxiedRequest =
  | { readonly kind: "chat"; readonly body: ChatCompletionRequest }
  | { readonly kind: "completions"; readonly body: CompletionRequest }
  | { readonly kind: "embeddings"; readonly body: EmbeddingRequest }
  | { readonly kind: "responses"; readonly body: ResponsesRequest }
  | { readonly kind: "messages"; readonly body: MessagesRequest }
  | { readonly kind: "rerank"; readonly body: RerankRequest }
  | { readonly kind: "infill"; readonly body: InfillRequest }
  | { readonly kind: "tokenize"; readonly body: TokenizeRequest }
  | { readonly kind: "detokenize"; readonly body: DetokenizeRequest }
  | { readonly kind: "apply_template"; readonly body: ApplyTemplateRequest };

type Prompt = string | ReadonlyArray<string | number | readonly number[]>;

/**
 * What routing reads of any endpoint's body, in one shape: the conversation as chat messages when
 * it is one (Responses input items and Anthropic messages are), else the prompt text, and how long
 * an answer was asked for (0 for endpoints that generate nothing).
 */
export interface RequestView {
  readonly messages?: readonly PrefixMessage[] | undefined;
  readonly prompt?: Prompt | undefined;
  readonly maxTokens: number | undefined;
  readonly stream: boolean;
}

export function viewOf(request: ProxiedRequest): RequestView {
  const stream = endpoints[request.kind].streams && request.body.stream === true;
  switch (request.kind) {
    case "chat":
      return {
        messages: request.body.messages,
        maxTokens: request.body.max_tokens ?? request.body.max_completion_tokens ?? undefined,
        stream,
      };
    case "completions":
      return {
        prompt: request.body.prompt,
        maxTokens: request.body.max_tokens ?? request.body.max_completion_tokens ?? undefined,
        stream,
      };
    case "responses":
      return {
        messages: responseMessages(request.body),
        maxTokens: request.body.max_output_tokens ?? undefined,
        stream,
      };
    case "messages":
      return {
        messages: anthropicMessages(request.body),
        maxTokens: request.body.max_tokens ?? undefined,
        stream,
      };
    case "infill": {
      const { input_prefix = "", prompt = "", input_suffix = "", n_predict } = request.body;
      return { prompt: input_prefix + prompt + input_suffix, maxTokens: n_predict, stream };
    }
    case "embeddings":
      return { prompt: request.body.input, maxTokens: 0, stream: false };
    case "rerank":
      return {
        prompt: [request.body.query, ...request.body.documents.map(documentText)],
        maxTokens: 0,
        stream: false,
      };
    case "tokenize":
      return { prompt: request.body.content, maxTokens: 0, stream: false };
    case "detokenize":
      return { prompt: request.body.tokens, maxTokens: 0, stream: false };
    case "apply_template":
      return { messages: request.body.messages, maxTokens: 0, stream: false };
  }
}

/** Responses input: a string is one user message; items with a role are messages, others skipped. */
function responseMessages(body: ResponsesRequest): PrefixMessage[] {
  const instructions: PrefixMessage[] = body.instructions
    ? [{ role: "system", content: body.instructions }]
    : [];
  if (typeof body.input === "string") return [...instructions, { role: "user", content: body.input }];
  const items = body.input.flatMap((item) =>
    typeof item.role === "string" ? [{ role: item.role, content: contentOf(item.content) }] : [],
  );
  return [...instructions, ...items];
}

function anthropicMessages(body: MessagesRequest): PrefixMessage[] {
  const system: PrefixMessage[] =
    body.system === undefined ? [] : [{ role: "system", content: contentOf(body.system) }];
  return [
    ...system,
    ...body.messages.map((message) => ({ role: message.role, content: contentOf(message.content) })),
  ];
}

/** Text, or the parts that carry text (`input_text`, `text`...): what a prefix key and an estimate read. */
function contentOf(content: unknown): PrefixMessage["content"] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return null;
  return content.flatMap((part: unknown) =>
    typeof part === "object" && part !== null && "type" in part && typeof part.type === "string"
      ? [{ type: part.type, text: "text" in part ? part.text : undefined }]
      : [],
  );
}

function documentText(document: string | Record<string, unknown>): string {
  if (typeof document === "string") return document;
  return typeof document.text === "string" ? document.text : "";
}
