import { z } from "zod";
import {
  DONE_DATA,
  type SseEvent,
  type Timings,
  timingsSchema,
  type Usage,
  usageSchema,
} from "../openai/index.js";
import { type AnswerBody, answerFromBody, type ChatMessage, type ToolCall } from "./answer.js";

const toolDeltaSchema = z.looseObject({
  index: z.number().int().min(0),
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
});

const chunkSchema = z.looseObject({
  id: z.string(),
  created: z.number(),
  model: z.string(),
  system_fingerprint: z.string().optional(),
  object: z.enum(["chat.completion.chunk", "text_completion"]),
  choices: z.array(
    z.looseObject({
      index: z.number().int().min(0),
      text: z.string().optional(),
      delta: z
        .looseObject({
          role: z.string().nullable().optional(),
          content: z.string().nullable().optional(),
          reasoning_content: z.string().nullable().optional(),
          tool_calls: z.array(toolDeltaSchema).nullable().optional(),
        })
        .optional(),
      finish_reason: z.string().nullable().optional(),
      logprobs: z.null().optional(),
    }),
  ),
  usage: usageSchema.nullable().optional(),
  timings: timingsSchema.optional(),
});

type Chunk = z.infer<typeof chunkSchema>;

interface ChoiceParts {
  content: string[];
  reasoning: string[];
  tools: { id: string; name: string; arguments: string[] }[];
  finishReason: string | undefined;
}

/**
 * Records the answer the call relays, to store it once the call turns out complete: a node's whole
 * JSON body, or the events of its stream assembled into the body a non-streamed client would have
 * got (as the openai SDK's stream helpers do). Anything it cannot read, or more than `maxBytes` of
 * text, spoils the recording: nothing is stored rather than something partial.
 */
export class AnswerRecorder {
  private body: AnswerBody | undefined;
  private first: Chunk | undefined;
  private readonly choices = new Map<number, ChoiceParts>();
  private usage: Usage | undefined;
  private timings: Timings | undefined;
  private bytes = 0;
  private spoiled = false;

  constructor(
    private readonly kind: "chat" | "completions",
    private readonly maxBytes: number,
  ) {}

  /** A node's non-streamed answer. */
  whole(payload: unknown): void {
    this.body = answerFromBody(this.kind, payload);
    if (!this.body) this.spoiled = true;
  }

  /** Events of the relayed stream, in order, as the relay decoded them. */
  record(events: readonly SseEvent[]): void {
    for (const event of events) {
      if (this.spoiled) return;
      if (event.data !== DONE_DATA) this.onChunk(event.data);
    }
  }

  /** The complete answer, or undefined when what was recorded is not one. */
  answer(): AnswerBody | undefined {
    if (this.spoiled) return undefined;
    if (this.body) return this.body;
    return this.assembled();
  }

  private onChunk(data: string): void {
    this.bytes += data.length;
    const parsed = this.bytes <= this.maxBytes ? parseChunk(data) : undefined;
    if (!parsed || parsed.object !== (this.kind === "chat" ? "chat.completion.chunk" : "text_completion")) {
      this.spoiled = true;
      return;
    }
    this.first ??= parsed;
    if (parsed.usage) this.usage = parsed.usage;
    if (parsed.timings) this.timings = parsed.timings;
    for (const choice of parsed.choices) {
      const parts = this.partsOf(choice.index);
      if (choice.text) parts.content.push(choice.text);
      const delta = choice.delta;
      if (delta?.content) parts.content.push(delta.content);
      if (delta?.reasoning_content) parts.reasoning.push(delta.reasoning_content);
      for (const tool of delta?.tool_calls ?? []) {
        const call = parts.tools[tool.index] ?? { id: "", name: "", arguments: [] };
        parts.tools[tool.index] = call;
        if (tool.id) call.id = tool.id;
        if (tool.function?.name) call.name += tool.function.name;
        if (tool.function?.arguments) call.arguments.push(tool.function.arguments);
      }
      if (choice.finish_reason) parts.finishReason = choice.finish_reason;
    }
  }

  private partsOf(index: number): ChoiceParts {
    let parts = this.choices.get(index);
    if (!parts) {
      parts = { content: [], reasoning: [], tools: [], finishReason: undefined };
      this.choices.set(index, parts);
    }
    return parts;
  }

  private assembled(): AnswerBody | undefined {
    const first = this.first;
    const usage = this.usage ?? usageFromTimings(this.timings);
    if (!first || !usage || this.choices.size === 0) return undefined;
    const indexes = [...this.choices.keys()].sort((a, b) => a - b);
    const choices = indexes.map((index) => {
      const parts = this.choices.get(index) as ChoiceParts;
      const text = parts.content.join("");
      if (this.kind === "completions") {
        return { text, index, logprobs: null, finish_reason: parts.finishReason };
      }
      const message: ChatMessage = { role: "assistant", content: text || null };
      if (parts.reasoning.length > 0) message.reasoning_content = parts.reasoning.join("");
      if (parts.tools.length > 0) message.tool_calls = parts.tools.map(toolCall);
      return { finish_reason: parts.finishReason, index, message };
    });
    const body = {
      choices,
      created: first.created,
      id: first.id,
      model: first.model,
      ...(first.system_fingerprint === undefined ? {} : { system_fingerprint: first.system_fingerprint }),
      object: this.kind === "chat" ? "chat.completion" : "text_completion",
      usage,
    };
    // The same check as a whole body: every choice finished, every tool call named.
    return answerFromBody(this.kind, body);
  }
}

function toolCall(parts: ChoiceParts["tools"][number] | undefined): ToolCall {
  return {
    id: parts?.id ?? "",
    type: "function",
    function: { name: parts?.name ?? "", arguments: parts?.arguments.join("") ?? "" },
  };
}

/** A stream without `include_usage` still ends with llama.cpp's timings: the same counts, as usage. */
function usageFromTimings(timings: Timings | undefined): Usage | undefined {
  if (!timings) return undefined;
  const prompt = timings.prompt_n + (timings.cache_n ?? 0);
  return {
    completion_tokens: timings.predicted_n,
    prompt_tokens: prompt,
    total_tokens: prompt + timings.predicted_n,
    prompt_tokens_details: { cached_tokens: timings.cache_n ?? 0 },
  };
}

function parseChunk(data: string): Chunk | undefined {
  let payload: unknown;
  try {
    payload = JSON.parse(data);
  } catch {
    return undefined;
  }
  const parsed = chunkSchema.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
}
