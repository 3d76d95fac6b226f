import { z } from "zod";

/**
 * Request schemas check the fields the gateway relies on and the types OpenAI documents; every other
 * field passes through untouched, because llama-server accepts many extensions (cache_prompt, n_probs...).
 */
const contentPart = z.looseObject({ type: z.string() });
const messageContent = z.union([z.string(), z.array(contentPart), z.null()]);

export const chatMessageSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: messageContent.optional(),
  name: z.string().optional(),
});

const streamOptions = z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional();
// llama-server takes any number of stop strings, and n > 1 (one slot per choice): only the gateway's own bounds remain.
const stop = z.union([z.string(), z.array(z.string()), z.null()]).optional();
const sampling = {
  model: z.string().min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: streamOptions,
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stop,
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  user: z.string().optional(),
};

export const chatCompletionRequestSchema = z.looseObject({
  ...sampling,
  messages: z.array(chatMessageSchema).min(1),
});

export const completionRequestSchema = z.looseObject({
  ...sampling,
  // OpenAI's string, strings, tokens and token arrays, and llama.cpp's mixes of strings and tokens.
  prompt: z.union([
    z.string(),
    z.array(z.union([z.string(), z.number().int(), z.array(z.number().int()).min(1)])).min(1),
  ]),
});

export const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1),
  ]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().min(1).optional(),
  user: z.string().optional(),
});

export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

export const usageSchema = z.looseObject({
  prompt_tokens: z.number(),
  completion_tokens: z.number().optional(),
  total_tokens: z.number(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().optional() }).nullable().optional(),
});
export type Usage = z.infer<typeof usageSchema>;

/** llama-server's per-request `timings` block: the node's own view of prefill and decode speed. */
export const timingsSchema = z.looseObject({
  cache_n: z.number().optional(),
  prompt_n: z.number(),
  prompt_ms: z.number(),
  predicted_n: z.number(),
  predicted_ms: z.number(),
});
export type Timings = z.infer<typeof timingsSchema>;

export const modelListSchema = z.looseObject({
  object: z.literal("list").optional(),
  // llama-server lists `--alias a,b` as id `a`, aliases [a, b]; a request may name any of them.
  data: z.array(
    z.looseObject({
      id: z.string().min(1),
      aliases: z.array(z.string().min(1)).optional(),
      // n_ctx_train, n_params, size...: what a client may pick a model by.
      meta: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});
