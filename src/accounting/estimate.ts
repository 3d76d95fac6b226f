import { get_encoding, type Tiktoken } from "tiktoken";

/**
 * Prompt-size estimates made before a node has counted anything: for routing (prefill time) and for
 * the quota reservation. The nodes run llama.cpp with whatever model their operator loaded, so no one
 * tokenizer is right; cl100k_base is the closest general one, since Llama 3's tokenizer is tiktoken's
 * cl100k vocabulary extended, and it counts English and code within a few percent of most BPE models.
 * The exact count comes back from the node in `usage` and replaces this at settle.
 */
const ENCODING = "cl100k_base";
/**
 * Text beyond this many characters is extrapolated from the tokens of its first part: tiktoken's WASM
 * costs about 0.3-0.5 CPU-us a character, so counting a long prompt whole would cost milliseconds a call,
 * while its density (characters per token) settles within the first thousand characters.
 */
const SAMPLE_CHARS = 1024;
/** Role markers and chat-template tokens around each message. */
const TOKENS_PER_MESSAGE = 4;

// The ranks load on first use (about 100 ms of WASM set-up), not at import, so commands that never
// estimate pay nothing; the encoder is kept for the process's life.
let encoder: Tiktoken | undefined;

export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  encoder ??= get_encoding(ENCODING);
  // encode_ordinary: special-token text in a prompt is plain text to the node's template, and it never throws.
  if (text.length <= SAMPLE_CHARS) return encoder.encode_ordinary(text).length;
  const sampled = encoder.encode_ordinary(text.slice(0, SAMPLE_CHARS)).length;
  return Math.ceil((sampled * text.length) / SAMPLE_CHARS);
}

/** Each message's estimate (its text parts included), so that a caller can sum any prefix without re-encoding. */
export function chatMessageTokens(messages: ReadonlyArray<{ content?: unknown }>): number[] {
  return messages.map((message) => {
    const content = message.content;
    let tokens = TOKENS_PER_MESSAGE;
    if (typeof content === "string") tokens += estimateTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        const text = (part as { text?: unknown }).text;
        if (typeof text === "string") tokens += estimateTokens(text);
      }
    }
    return tokens;
  });
}

export function estimateChatTokens(messages: ReadonlyArray<{ content?: unknown }>): number {
  return sumTokens(chatMessageTokens(messages));
}

/** Adds per-message counts (a prefix of them, for what a node may hold cached). */
export function sumTokens(counts: readonly number[]): number {
  let total = 0;
  for (const count of counts) total += count;
  return total;
}
