import { randomUUID } from "node:crypto";
import { BUILD_INFO } from "./context.js";
import type { FinishReason } from "./generation.js";

/**
 * Response bodies and stream chunks in the shapes llama-server produces for its OpenAI-compatible
 * endpoints, `timings` included.
 */
export type CompletionKind = "chat" | "text";

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

export interface Outcome {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  cacheN: number;
  promptMs: number;
  predictedN: number;
  predictedMs: number;
}

export function newMeta(model: string): ResponseMeta {
  return {
    id: `chatcmpl-${randomUUID().replaceAll("-", "")}`,
    created: Math.floor(Date.now() / 1000),
    model,
  };
}

export function envelope(meta: ResponseMeta, object: string): Record<string, unknown> {
  return { created: meta.created, id: meta.id, model: meta.model, system_fingerprint: BUILD_INFO, object };
}

export function usageJson(o: Outcome): Record<string, unknown> {
  return {
    completion_tokens: o.predictedN,
    prompt_tokens: o.promptTokens,
    total_tokens: o.predictedN + o.promptTokens,
    prompt_tokens_details: { cached_tokens: o.cacheN },
  };
}

export function timingsJson(o: Outcome): Record<string, number> {
  const promptN = o.promptTokens - o.cacheN;
  return {
    cache_n: o.cacheN,
    prompt_n: promptN,
    prompt_ms: o.promptMs,
    prompt_per_token_ms: perToken(o.promptMs, promptN),
    prompt_per_second: perSecond(promptN, o.promptMs),
    predicted_n: o.predictedN,
    predicted_ms: o.predictedMs,
    predicted_per_token_ms: perToken(o.predictedMs, o.predictedN),
    predicted_per_second: perSecond(o.predictedN, o.predictedMs),
  };
}

const perToken = (ms: number, n: number): number => (n > 0 ? ms / n : 0);
const perSecond = (n: number, ms: number): number => (ms > 0 ? (n * 1000) / ms : 0);

export function finalBody(kind: CompletionKind, meta: ResponseMeta, o: Outcome): Record<string, unknown> {
  const choice =
    kind === "chat"
      ? { finish_reason: o.finishReason, index: 0, message: { role: "assistant", content: o.text } }
      : { text: o.text, index: 0, logprobs: null, finish_reason: o.finishReason };
  return {
    choices: [choice],
    ...envelope(meta, kind === "chat" ? "chat.completion" : "text_completion"),
    usage: usageJson(o),
    timings: timingsJson(o),
  };
}

/** The chunk that opens a chat stream: llama-server announces the role before the first token. */
export function roleChunk(meta: ResponseMeta): Record<string, unknown> {
  return {
    choices: [{ finish_reason: null, index: 0, delta: { role: "assistant", content: null } }],
    ...envelope(meta, "chat.completion.chunk"),
  };
}

export function tokenChunk(kind: CompletionKind, meta: ResponseMeta, piece: string): Record<string, unknown> {
  if (kind === "chat") {
    return {
      choices: [{ finish_reason: null, index: 0, delta: { content: piece } }],
      ...envelope(meta, "chat.completion.chunk"),
    };
  }
  return {
    choices: [{ text: piece, index: 0, logprobs: null, finish_reason: null }],
    ...envelope(meta, "text_completion"),
  };
}

/**
 * The chunks that close a stream, before `[DONE]`. Chat: the finish chunk, then the usage chunk when
 * asked for; `timings` rides on whichever comes last, as in llama-server. Text completions always end
 * with one chunk carrying the finish reason, usage and timings.
 */
export function closingChunks(
  kind: CompletionKind,
  meta: ResponseMeta,
  o: Outcome,
  includeUsage: boolean,
): Record<string, unknown>[] {
  if (kind === "text") {
    return [
      {
        choices: [{ text: "", index: 0, logprobs: null, finish_reason: o.finishReason }],
        ...envelope(meta, "text_completion"),
        usage: usageJson(o),
        timings: timingsJson(o),
      },
    ];
  }
  const finish: Record<string, unknown> = {
    choices: [{ finish_reason: o.finishReason, index: 0, delta: {} }],
    ...envelope(meta, "chat.completion.chunk"),
  };
  if (!includeUsage) return [{ ...finish, timings: timingsJson(o) }];
  const usage = {
    choices: [],
    ...envelope(meta, "chat.completion.chunk"),
    usage: usageJson(o),
    timings: timingsJson(o),
  };
  return [finish, usage];
}
