import { z } from "zod";
import { usageSchema } from "../openai/index.js";

const toolCallSchema = z.strictObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string(), arguments: z.string() }),
});

/**
 * The message fields a replay can stream as a node does. A message with any other field set (audio,
 * annotations...) is not stored: its stream could not be told apart from a broken one.
 */
const messageSchema = z.strictObject({
  role: z.literal("assistant"),
  content: z.string().nullable(),
  reasoning_content: z.string().nullable().optional(),
  tool_calls: z.array(toolCallSchema).optional(),
  refusal: z.null().optional(),
});

const chatChoiceSchema = z.looseObject({
  index: z.number().int().min(0),
  message: messageSchema,
  finish_reason: z.string(),
  logprobs: z.null().optional(),
});

const textChoiceSchema = z.looseObject({
  index: z.number().int().min(0),
  text: z.string(),
  finish_reason: z.string(),
  logprobs: z.null().optional(),
});

const envelope = {
  id: z.string(),
  created: z.number(),
  model: z.string(),
  system_fingerprint: z.string().optional(),
  usage: usageSchema,
};

export const chatAnswerSchema = z.looseObject({
  ...envelope,
  object: z.literal("chat.completion"),
  choices: z.array(chatChoiceSchema).min(1),
});

export const textAnswerSchema = z.looseObject({
  ...envelope,
  object: z.literal("text_completion"),
  choices: z.array(textChoiceSchema).min(1),
});

export type ChatAnswer = z.infer<typeof chatAnswerSchema>;
export type TextAnswer = z.infer<typeof textAnswerSchema>;
export type ChatMessage = z.infer<typeof messageSchema>;
export type ToolCall = z.infer<typeof toolCallSchema>;

/** A complete answer as a non-streamed client gets it: what the cache keeps, whichever kind filled it. */
export type AnswerBody = ChatAnswer | TextAnswer;

/** One stored entry: the answer and when a node gave it (wall clock, shared by replicas). */
export interface StoredAnswer {
  readonly storedAt: number;
  readonly body: AnswerBody;
}

const storedSchema = z.object({
  storedAt: z.number(),
  body: z.union([chatAnswerSchema, textAnswerSchema]),
});

/**
 * The answer as a node's whole JSON body gave it, or undefined when it is not a complete answer the
 * cache can replay. llama.cpp's `timings` describe the node's run, which a hit does not repeat.
 */
export function answerFromBody(kind: "chat" | "completions", payload: unknown): AnswerBody | undefined {
  const parsed = (kind === "chat" ? chatAnswerSchema : textAnswerSchema).safeParse(payload);
  if (!parsed.success) return undefined;
  const { timings: _timings, ...body } = parsed.data;
  return body as AnswerBody;
}

export function serializeAnswer(answer: StoredAnswer): string {
  return JSON.stringify(answer);
}

/** Undefined for anything that is not an entry this code wrote: another version's, or damaged. */
export function parseStoredAnswer(text: string): StoredAnswer | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = storedSchema.safeParse(json);
  return parsed.success
    ? { storedAt: parsed.data.storedAt, body: parsed.data.body as AnswerBody }
    : undefined;
}
