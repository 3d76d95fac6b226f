import {
  closingChunks,
  finalBody,
  type Outcome,
  type ResponseMeta,
  roleChunk,
  timingsJson,
  tokenChunk,
} from "./format.js";
import type { FinishReason } from "./generation.js";

/**
 * The wire shapes of every generating endpoint, as llama-server's server-task.cpp writes them:
 * OpenAI chat and completions (`data:` chunks, then `[DONE]`), the Responses API and Anthropic's
 * Messages (named `event:`s, no `[DONE]`) and llama.cpp's own /infill (`/completion` chunks, the
 * last with `stop: true`, no `[DONE]`).
 */
export type GenerationKind = "chat" | "text" | "responses" | "messages" | "infill";

export interface SseChunk {
  readonly event?: string;
  readonly data: Record<string, unknown>;
}

/** The prompt as evaluated: its tokens, and how many of them came from the slot's cache. */
export interface PromptCount {
  readonly tokens: number;
  readonly cached: number;
}

export interface WireFormat {
  /** Before the first token: the role chunk, `response.created`, `message_start`... */
  opening(meta: ResponseMeta, prompt: PromptCount): SseChunk[];
  token(meta: ResponseMeta, piece: string): SseChunk[];
  closing(meta: ResponseMeta, o: Outcome, includeUsage: boolean): SseChunk[];
  whole(meta: ResponseMeta, o: Outcome): Record<string, unknown>;
  readonly endsWithDone: boolean;
}

const data = (chunk: Record<string, unknown>): SseChunk => ({ data: chunk });
const named = (event: string, body: Record<string, unknown>): SseChunk => ({
  event,
  data: { type: event, ...body },
});

const chat: WireFormat = {
  opening: (meta) => [data(roleChunk(meta))],
  token: (meta, piece) => [data(tokenChunk("chat", meta, piece))],
  closing: (meta, o, includeUsage) => closingChunks("chat", meta, o, includeUsage).map(data),
  whole: (meta, o) => finalBody("chat", meta, o),
  endsWithDone: true,
};

const text: WireFormat = {
  opening: () => [],
  token: (meta, piece) => [data(tokenChunk("text", meta, piece))],
  closing: (meta, o, includeUsage) => closingChunks("text", meta, o, includeUsage).map(data),
  whole: (meta, o) => finalBody("text", meta, o),
  endsWithDone: true,
};

function responseIds(meta: ResponseMeta): { response: string; message: string } {
  const suffix = meta.id.replace(/^chatcmpl-/, "");
  return { response: `resp_${suffix}`, message: `msg_${suffix}` };
}

function responseUsage(o: Outcome) {
  return {
    input_tokens: o.promptTokens,
    output_tokens: o.predictedN,
    total_tokens: o.promptTokens + o.predictedN,
    input_tokens_details: { cached_tokens: o.cacheN },
  };
}

function outputPart(o: Outcome) {
  return { type: "output_text", annotations: [], logprobs: [], text: o.text };
}

function outputItem(meta: ResponseMeta, o: Outcome) {
  const id = responseIds(meta).message;
  return { type: "message", status: "completed", id, content: [outputPart(o)], role: "assistant" };
}

function responseBody(meta: ResponseMeta, o: Outcome): Record<string, unknown> {
  return {
    completed_at: meta.created,
    created_at: meta.created,
    id: responseIds(meta).response,
    model: meta.model,
    object: "response",
    output: [outputItem(meta, o)],
    status: "completed",
    usage: responseUsage(o),
  };
}

const responses: WireFormat = {
  opening: (meta) => {
    const ids = responseIds(meta);
    const response = { id: ids.response, object: "response", status: "in_progress" };
    return [
      named("response.created", { response }),
      named("response.in_progress", { response }),
      named("response.output_item.added", {
        item: { content: [], id: ids.message, role: "assistant", status: "in_progress", type: "message" },
      }),
      named("response.content_part.added", { item_id: ids.message, part: { type: "output_text", text: "" } }),
    ];
  },
  token: (meta, piece) => [
    named("response.output_text.delta", { item_id: responseIds(meta).message, delta: piece }),
  ],
  closing: (meta, o) => {
    const body = responseBody(meta, o);
    const itemId = responseIds(meta).message;
    return [
      named("response.output_text.done", { item_id: itemId, text: o.text }),
      named("response.content_part.done", { item_id: itemId, part: outputPart(o) }),
      named("response.output_item.done", { item: outputItem(meta, o) }),
      {
        event: "response.completed",
        // The streamed response has no completed_at, the whole one does (server-task.cpp).
        data: { type: "response.completed", response: withoutCompletedAt(body), timings: timingsJson(o) },
      },
    ];
  },
  whole: responseBody,
  endsWithDone: false,
};

function withoutCompletedAt({ completed_at: _, ...rest }: Record<string, unknown>): Record<string, unknown> {
  return rest;
}

function stopReason(finish: FinishReason): string {
  return finish === "length" ? "max_tokens" : "end_turn";
}

const messages: WireFormat = {
  opening: (meta, prompt) => [
    named("message_start", {
      message: {
        id: responseIds(meta).message,
        type: "message",
        role: "assistant",
        content: [],
        model: meta.model,
        stop_reason: null,
        stop_sequence: null,
        usage: {
          cache_read_input_tokens: prompt.cached,
          input_tokens: prompt.tokens - prompt.cached,
          output_tokens: 0,
        },
      },
    }),
    named("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
  ],
  token: (_meta, piece) => [
    named("content_block_delta", { index: 0, delta: { type: "text_delta", text: piece } }),
  ],
  closing: (_meta, o) => [
    named("content_block_stop", { index: 0 }),
    named("message_delta", {
      delta: { stop_reason: stopReason(o.finishReason), stop_sequence: null },
      usage: { output_tokens: o.predictedN },
    }),
    named("message_stop", {}),
  ],
  whole: (meta, o) => ({
    id: responseIds(meta).message,
    type: "message",
    role: "assistant",
    content: [{ type: "text", text: o.text }],
    model: meta.model,
    stop_reason: stopReason(o.finishReason),
    stop_sequence: null,
    usage: {
      cache_read_input_tokens: o.cacheN,
      input_tokens: o.promptTokens - o.cacheN,
      output_tokens: o.predictedN,
    },
  }),
  endsWithDone: false,
};

function infillFinal(meta: ResponseMeta, o: Outcome, content: string): Record<string, unknown> {
  return {
    index: 0,
    content,
    id_slot: 0,
    stop: true,
    model: meta.model,
    tokens_predicted: o.predictedN,
    tokens_evaluated: o.promptTokens,
    stop_type: o.finishReason === "length" ? "limit" : "eos",
    tokens_cached: o.promptTokens + o.predictedN,
    timings: timingsJson(o),
  };
}

const infill: WireFormat = {
  opening: () => [],
  token: (_meta, piece) => [data({ index: 0, content: piece, tokens: [], stop: false, id_slot: 0 })],
  closing: (meta, o) => [data(infillFinal(meta, o, ""))],
  whole: (meta, o) => infillFinal(meta, o, o.text),
  endsWithDone: false,
};

export const WIRE_FORMATS: Readonly<Record<GenerationKind, WireFormat>> = {
  chat,
  text,
  responses,
  messages,
  infill,
};
