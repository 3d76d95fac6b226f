import { z } from "zod";
import { chatMessageSchema } from "./schemas.js";

/**
 * Bodies of llama-server's other inference routes: the OpenAI Responses API, the Anthropic Messages
 * API, rerank, infill and the tokenizer utilities. As for chat, only what the gateway reads is
 * checked; every other field reaches the node untouched. `model` is optional where llama-server
 * does not need one: the gateway resolves a missing one (models.default, or the fleet's only model).
 */
const model = z.string().min(1).optional();
const stream = z.boolean().nullable().optional();
const maxTokens = z.number().int().min(1).nullable().optional();
const textParts = z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]);

export const responsesRequestSchema = z.looseObject({
  model,
  stream,
  // A string, or a list of input items (messages, function call outputs...).
  input: z.union([z.string(), z.array(z.looseObject({}))]),
  instructions: z.string().nullable().optional(),
  max_output_tokens: maxTokens,
});

export const messagesRequestSchema = z.looseObject({
  model,
  stream,
  max_tokens: maxTokens,
  system: textParts.optional(),
  messages: z.array(z.looseObject({ role: z.string().min(1), content: textParts })).min(1),
});

export const rerankRequestSchema = z.looseObject({
  model,
  query: z.string(),
  documents: z.array(z.union([z.string(), z.looseObject({})])).min(1),
  top_n: z.number().int().min(1).optional(),
});

export const infillRequestSchema = z.looseObject({
  model,
  stream,
  input_prefix: z.string().optional(),
  input_suffix: z.string().optional(),
  input_extra: z.array(z.looseObject({})).optional(),
  prompt: z.string().optional(),
  n_predict: z.number().int().optional(),
});

export const tokenizeRequestSchema = z.looseObject({
  model,
  content: z.union([z.string(), z.array(z.union([z.string(), z.number().int()]))]),
});

export const detokenizeRequestSchema = z.looseObject({ model, tokens: z.array(z.number().int()) });

export const applyTemplateRequestSchema = z.looseObject({
  model,
  messages: z.array(chatMessageSchema).min(1),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
export type RerankRequest = z.infer<typeof rerankRequestSchema>;
export type InfillRequest = z.infer<typeof infillRequestSchema>;
export type TokenizeRequest = z.infer<typeof tokenizeRequestSchema>;
export type DetokenizeRequest = z.infer<typeof detokenizeRequestSchema>;
export type ApplyTemplateRequest = z.infer<typeof applyTemplateRequestSchema>;
