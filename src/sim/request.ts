import type { GenerationKind } from "./api-formats.js";
import { renderChat, type TemplateMessage } from "./template.js";
import type { Tokenizer } from "./tokenizer.js";
import { type ForcedToolCall, forcedToolCall } from "./tool-call.js";
import { isRecord, llamaErrors } from "./wire.js";

/** What a completion request asks of the node, once its body is checked and its prompt tokenized. */
export interface CompletionPlan {
  kind: GenerationKind;
  promptIds: number[];
  stream: boolean;
  includeUsage: boolean;
  /** Tokens to generate at most; null means until the answer ends (llama's n_predict -1). */
  maxTokens: number | null;
  /** llama-server's `ignore_eos`: generate up to the limit instead of stopping at a natural end. */
  ignoreEos: boolean;
  seed: number;
  cachePrompt: boolean;
  /** Chat only: the tool call `tool_choice` forces, if it forces one. */
  toolCall: ForcedToolCall | undefined;
}

export interface PlanDefaults {
  defaultMaxTokens: number;
  seed: number;
}

export function parseCompletion(
  kind: GenerationKind,
  body: unknown,
  tokenizer: Tokenizer,
  defaults: PlanDefaults,
): CompletionPlan {
  if (!isRecord(body)) throw llamaErrors.invalidRequest("Request body must be a JSON object");
  const promptIds = promptIdsOf(kind, body, tokenizer);
  const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
  return {
    kind,
    promptIds,
    stream: optionalBoolean(body, "stream") ?? false,
    includeUsage: streamOptions.include_usage === true,
    maxTokens: maxTokens(body, defaults.defaultMaxTokens),
    ignoreEos: optionalBoolean(body, "ignore_eos") ?? false,
    seed: seedOf(body.seed, defaults.seed),
    cachePrompt: optionalBoolean(body, "cache_prompt") ?? true,
    toolCall: kind === "chat" ? forcedToolCall(body) : undefined,
  };
}

function promptIdsOf(kind: GenerationKind, body: Record<string, unknown>, tokenizer: Tokenizer): number[] {
  switch (kind) {
    case "chat":
      return tokenizer.tokenize(renderChat(parseMessages(body.messages)));
    case "text":
      return promptOf(body.prompt, tokenizer);
    case "responses":
      return tokenizer.tokenize(renderChat(responsesMessages(body)));
    case "messages":
      return tokenizer.tokenize(renderChat(anthropicMessages(body)));
    case "infill":
      return tokenizer.tokenize(infillPrompt(body));
  }
}

/** The Responses API's `input` (a string or input items) after its `instructions`, as chat messages. */
function responsesMessages(body: Record<string, unknown>): TemplateMessage[] {
  // llama-server keeps no responses: a conversation must be sent whole.
  if (typeof body.previous_response_id === "string" && body.previous_response_id !== "") {
    throw llamaErrors.invalidRequest("llama.cpp does not support 'previous_response_id'.");
  }
  const system =
    typeof body.instructions === "string" ? [{ role: "system", content: body.instructions }] : [];
  if (typeof body.input === "string") return [...system, { role: "user", content: body.input }];
  if (!Array.isArray(body.input)) throw llamaErrors.invalidRequest("'input' is required");
  const items = body.input.filter((item: unknown) => isRecord(item) && typeof item.role === "string");
  return [...system, ...parseMessages(items)];
}

function anthropicMessages(body: Record<string, unknown>): TemplateMessage[] {
  const system = body.system === undefined ? [] : [{ role: "system", content: body.system }];
  return [...system, ...parseMessages(body.messages)];
}

/** llama.cpp's fill-in-the-middle prompt; the sim's tokens stand for the FIM markers it lacks. */
function infillPrompt(body: Record<string, unknown>): string {
  for (const field of ["input_prefix", "input_suffix"]) {
    if (typeof body[field] !== "string") throw llamaErrors.invalidRequest(`"${field}" is required`);
  }
  const text = (field: string) => (typeof body[field] === "string" ? (body[field] as string) : "");
  return `<|fim_prefix|>${text("input_prefix")}<|fim_suffix|>${text("input_suffix")}<|fim_middle|>${text("prompt")}`;
}

export function parseMessages(value: unknown): TemplateMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw llamaErrors.invalidRequest("'messages' is required and must be a non-empty array");
  }
  return value.map((message: unknown, i) => {
    if (!isRecord(message) || typeof message.role !== "string") {
      throw llamaErrors.invalidRequest(`'messages[${i}].role' is required and must be a string`);
    }
    refuseMedia(message.content);
    return { role: message.role, content: message.content };
  });
}

/** Media parts llama-server reads only with an mmproj, which the sim never has: refused as 500s, as it does. */
const MEDIA_PARTS = new Map([
  ["image_url", "image"],
  ["input_audio", "audio"],
  ["input_video", "video"],
  ["video_url", "video"],
]);

function refuseMedia(content: unknown): void {
  if (!Array.isArray(content)) return;
  for (const part of content) {
    const media = isRecord(part) && typeof part.type === "string" ? MEDIA_PARTS.get(part.type) : undefined;
    if (media) {
      throw llamaErrors.server(
        `${media} input is not supported - hint: if this is unexpected, you may need to provide the mmproj`,
      );
    }
  }
}

function promptOf(prompt: unknown, tokenizer: Tokenizer): number[] {
  if (typeof prompt === "string") return tokenizer.tokenize(prompt);
  if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.every((item) => Number.isInteger(item))) return prompt as number[];
    if (prompt.length === 1 && typeof prompt[0] === "string") return tokenizer.tokenize(prompt[0]);
    // One prompt of token ids, batched the way the openai SDK types it (`number[][]`).
    if (prompt.length === 1 && Array.isArray(prompt[0]) && prompt[0].every(Number.isInteger)) {
      return prompt[0] as number[];
    }
    if (prompt.every((item) => typeof item === "string" || Array.isArray(item))) {
      throw llamaErrors.invalidRequest("The sim serves one prompt per request; send the prompts separately");
    }
  }
  throw llamaErrors.invalidRequest(
    '"prompt" must be a string, an array of token ids, or an array with one string or token array',
  );
}

/** max_completion_tokens wins over max_tokens, which wins over llama's own n_predict. */
function maxTokens(body: Record<string, unknown>, fallback: number): number | null {
  for (const field of ["max_completion_tokens", "max_tokens", "max_output_tokens", "n_predict"]) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (!Number.isInteger(value)) throw llamaErrors.invalidRequest(`'${field}' must be an integer`);
    return (value as number) < 0 ? null : (value as number);
  }
  return fallback;
}

function seedOf(value: unknown, fallback: number): number {
  return Number.isInteger(value) && value !== -1 ? (value as number) : fallback;
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw llamaErrors.invalidRequest(`'${field}' must be a boolean`);
  return value;
}
