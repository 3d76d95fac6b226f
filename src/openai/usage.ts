import { z } from "zod";
import { type Timings, timingsSchema, type Usage, usageSchema } from "./schemas.js";

export interface UsageReport {
  usage?: Usage;
  timings?: Timings;
}

/**
 * The Responses and Messages APIs count `input_tokens`/`output_tokens`. llama-server's Messages
 * answers leave the cached prompt out of `input_tokens` (as Anthropic does) and report it as
 * `cache_read_input_tokens`; its Responses answers count it in and detail it.
 */
const inputOutputSchema = z.looseObject({
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  cache_read_input_tokens: z.number().optional(),
  input_tokens_details: z.looseObject({ cached_tokens: z.number().optional() }).nullable().optional(),
});

/**
 * Reads `usage` and llama.cpp `timings` from a response body or stream event, ignoring bad shapes,
 * in OpenAI's chat shape whatever the endpoint's own: a Responses event holds it in `response`, an
 * Anthropic `message_start` in `message`. A stream may report the prompt and the answer in
 * separate events (Anthropic's `message_delta` has only `output_tokens`): `previous` fills in what
 * the event leaves out.
 */
export function extractUsage(payload: unknown, previous?: Usage): UsageReport {
  if (typeof payload !== "object" || payload === null) return {};
  const record = payload as Record<string, unknown>;
  const report: UsageReport = {};
  const usage = usageOf(record.usage, previous) ?? nestedUsage(record, previous);
  if (usage) report.usage = usage;
  const timings = timingsSchema.safeParse(record.timings);
  if (timings.success) report.timings = timings.data;
  return report;
}

function nestedUsage(record: Record<string, unknown>, previous: Usage | undefined): Usage | undefined {
  for (const field of ["response", "message"]) {
    const inner = record[field];
    if (typeof inner === "object" && inner !== null && "usage" in inner) {
      return usageOf(inner.usage, previous);
    }
  }
  return undefined;
}

function usageOf(raw: unknown, previous: Usage | undefined): Usage | undefined {
  if (raw === undefined) return undefined;
  const openai = usageSchema.safeParse(raw);
  if (openai.success) return openai.data;
  const counted = inputOutputSchema.safeParse(raw);
  if (!counted.success) return undefined;
  const { input_tokens, output_tokens, cache_read_input_tokens, input_tokens_details } = counted.data;
  if (input_tokens === undefined && output_tokens === undefined) return undefined;
  const cached = input_tokens_details?.cached_tokens ?? cache_read_input_tokens;
  const prompt =
    input_tokens === undefined
      ? (previous?.prompt_tokens ?? 0)
      : input_tokens + (cache_read_input_tokens ?? 0);
  const completion = output_tokens ?? previous?.completion_tokens ?? 0;
  const cachedTokens = cached ?? previous?.prompt_tokens_details?.cached_tokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(cachedTokens === undefined ? {} : { prompt_tokens_details: { cached_tokens: cachedTokens } }),
  };
}
