import { encodeData, type SseEvent } from "../openai/index.js";
import type { ProxiedRequest } from "./features.js";

const ASK_FOR_USAGE = Buffer.from(',"stream_options":{"include_usage":true}}');
const CLOSING_BRACE = 0x7d;

type OpenAiStreaming = Extract<ProxiedRequest, { kind: "chat" | "completions" }>;

/** OpenAI's chat and completions streams carry usage only when asked (`stream_options`). */
function asksOptions(request: ProxiedRequest | undefined): request is OpenAiStreaming {
  return request?.kind === "chat" || request?.kind === "completions";
}

/**
 * Whether the client asked for the usage chunk itself; otherwise the gateway asks and strips it.
 * Other endpoints' streams carry their usage in events the client expects anyway.
 */
export function clientWantsUsage(request: ProxiedRequest | undefined): boolean {
  return !asksOptions(request) || request.body.stream_options?.include_usage === true;
}

/**
 * The body to send nodes for a stream whose client did not ask for usage: the same body with
 * `stream_options.include_usage`, so that every stream is settled from the node's own count. Without
 * `stream_options` in the body the field is appended to the raw bytes, with no re-serialising.
 */
export function bodyAskingForUsage(request: ProxiedRequest, raw: Uint8Array): Uint8Array | undefined {
  if (!asksOptions(request) || request.body.stream !== true) return undefined;
  const options = request.body.stream_options;
  if (options?.include_usage === true) return undefined;
  if (options === undefined) {
    let end = raw.length - 1;
    while (end > 0 && raw[end] !== CLOSING_BRACE) end -= 1;
    if (end > 0) return Buffer.concat([raw.subarray(0, end), ASK_FOR_USAGE]);
  }
  return Buffer.from(
    JSON.stringify({ ...request.body, stream_options: { ...options, include_usage: true } }),
  );
}

/**
 * The events as the client should get them: without the usage-only chunk (`"choices":[]` with
 * `usage`) the gateway asked for on its behalf. Untouched, and not copied, when there is none.
 */
export function withoutUsageChunk(bytes: Uint8Array, events: readonly SseEvent[]): Uint8Array | string {
  const kept = events.filter((event) => !isUsageChunk(event.data));
  if (kept.length === events.length) return bytes;
  return kept.map((event) => encodeData(event.data)).join("");
}

function isUsageChunk(data: string): boolean {
  if (!data.includes('"usage"')) return false;
  try {
    const payload = JSON.parse(data) as { choices?: unknown; usage?: unknown };
    return Array.isArray(payload.choices) && payload.choices.length === 0 && payload.usage != null;
  } catch {
    return false;
  }
}
