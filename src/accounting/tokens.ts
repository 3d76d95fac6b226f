import { get_encoding, type Tiktoken } from "tiktoken";

/**
 * Prompt tokens counted before the node sees the request, for reservations. The encoding is
 * cl100k_base: the open models a fleet runs mostly use BPE vocabularies grown from it (Llama 3's first
 * 100k tokens are cl100k's, Qwen's vocabulary starts from it too), so it lands closer to their counts
 * than o200k_base, and it loads four times faster. Each model's own count differs anyway, so the
 * count is scaled by what that model's nodes reported for earlier prompts (PromptCalibration).
 */
export const ENCODING = "cl100k_base";

/** OpenAI's rule for chat: each message costs a few tokens of role and separators, the reply's priming 3. */
const PER_MESSAGE = 4;
const REPLY_PRIMING = 3;

export interface CountableMessage {
  readonly content?: unknown;
  readonly name?: unknown;
  readonly tool_calls?: unknown;
}

export type CountablePrompt = string | ReadonlyArray<string | number | readonly number[]>;

export class TokenCounter {
  private encoder: Tiktoken | undefined;

  /** Loads the encoding now (a few hundred ms) rather than on the first request that needs it. */
  warm(): Tiktoken {
    this.encoder ??= get_encoding(ENCODING);
    return this.encoder;
  }

  text(text: string): number {
    return text.length === 0 ? 0 : this.warm().encode_ordinary(text).length;
  }

  chat(messages: readonly CountableMessage[]): number {
    let total = REPLY_PRIMING;
    for (const message of messages) {
      total += PER_MESSAGE;
      if (typeof message.name === "string") total += this.text(message.name);
      total += this.content(message.content);
      // Tool calls are rendered into the template as their JSON.
      if (message.tool_calls !== undefined) total += this.text(JSON.stringify(message.tool_calls));
    }
    return total;
  }

  /** A completions prompt or an embeddings input: text, or token ids already counted. */
  prompt(prompt: CountablePrompt): number {
    if (typeof prompt === "string") return this.text(prompt);
    let total = 0;
    for (const item of prompt) {
      total += typeof item === "string" ? this.text(item) : typeof item === "number" ? 1 : item.length;
    }
    return total;
  }

  free(): void {
    this.encoder?.free();
    this.encoder = undefined;
  }

  private content(content: unknown): number {
    if (typeof content === "string") return this.text(content);
    if (!Array.isArray(content)) return 0;
    let total = 0;
    for (const part of content) {
      const text = (part as { text?: unknown }).text;
      if (typeof text === "string") total += this.text(text);
    }
    return total;
  }
}

const MIN_RATIO = 0.25;
const MAX_RATIO = 4;
const WEIGHT = 0.2;

/**
 * How a model's real prompt counts compare with cl100k's: learned per model from exact usage, so a
 * reservation is sized in the model's own tokens. Starts at 1; each exact report moves it a fifth of
 * the way, bounded so one odd report cannot make reservations absurd.
 */
export class PromptCalibration {
  private readonly ratios = new Map<string, number>();

  scale(model: string, counted: number): number {
    return Math.ceil(counted * (this.ratios.get(model) ?? 1));
  }

  learn(model: string, counted: number, exact: number): void {
    if (counted <= 0 || exact <= 0) return;
    const observed = Math.min(MAX_RATIO, Math.max(MIN_RATIO, exact / counted));
    const previous = this.ratios.get(model);
    this.ratios.set(model, previous === undefined ? observed : previous + WEIGHT * (observed - previous));
  }
}
