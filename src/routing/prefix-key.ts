import { Fnv1a64 } from "./hash.js";

/** Structurally compatible with the OpenAI chat message, so routing needs no import from `openai/`. */
export interface PrefixMessage {
  readonly role: string;
  readonly content?: string | readonly { readonly type: string; readonly text?: unknown }[] | null;
}

/** Enough to tell conversations apart; hashing more would only cost time on long prompts. */
export const PREFIX_KEY_MAX_CHARS = 4096;

const MESSAGE_SEPARATOR = "\u001e";
const FIELD_SEPARATOR = "\u001f";

/**
 * Key of the part of a conversation that every later turn repeats verbatim: the leading system or
 * developer messages plus the first message after them. Turn 1 `[system, user1]` and turn 3
 * `[system, user1, assistant1, user2]` share it, so the gateway can remember which node holds the
 * conversation; a different system prompt or opening gives a different key.
 */
export function prefixKeyForChat(messages: readonly PrefixMessage[]): string | undefined {
  return chatKey(messages, true);
}

/**
 * Key of the leading system or developer messages alone, undefined when there are none. Many
 * conversations share one system prompt: placing their first turns by it lets a node's slot cache
 * serve the system prompt to all of them, not only to later turns of one conversation.
 */
export function systemPromptKey(messages: readonly PrefixMessage[]): string | undefined {
  return messages[0] && isInstruction(messages[0].role) ? chatKey(messages, false) : undefined;
}

function chatKey(messages: readonly PrefixMessage[], withOpening: boolean): string | undefined {
  if (messages.length === 0) return undefined;
  const hash = new Fnv1a64();
  let budget = PREFIX_KEY_MAX_CHARS;
  for (const message of messages) {
    if (!withOpening && !isInstruction(message.role)) break;
    budget = feed(hash, budget, message.role, FIELD_SEPARATOR);
    budget = feedContent(hash, budget, message.content);
    budget = feed(hash, budget, MESSAGE_SEPARATOR);
    if (budget <= 0 || !isInstruction(message.role)) break;
  }
  return hash.hex();
}

/**
 * Key of a legacy completion prompt: its first characters, or first tokens when given as token ids.
 * Of a batch (strings or token arrays), the first prompt's.
 */
export function prefixKeyForPrompt(
  prompt: string | ReadonlyArray<string | number | readonly number[]>,
): string | undefined {
  const first = prompt[0];
  if (first === undefined) return undefined;
  const hash = new Fnv1a64();
  if (typeof prompt === "string") {
    hash.update(prompt, PREFIX_KEY_MAX_CHARS);
  } else if (typeof first === "string") {
    hash.update(first, PREFIX_KEY_MAX_CHARS);
  } else {
    const tokens = typeof first === "number" ? prompt : first;
    let budget = PREFIX_KEY_MAX_CHARS;
    for (let i = 0; i < tokens.length && budget > 0; i++) {
      budget = feed(hash, budget, String(tokens[i]), FIELD_SEPARATOR);
    }
  }
  return hash.hex();
}

function isInstruction(role: string): boolean {
  return role === "system" || role === "developer";
}

function feedContent(hash: Fnv1a64, budget: number, content: PrefixMessage["content"]): number {
  if (typeof content === "string") return feed(hash, budget, content);
  let left = budget;
  for (const part of content ?? []) {
    left = feed(hash, left, part.type, FIELD_SEPARATOR);
    if (typeof part.text === "string") left = feed(hash, left, part.text);
    if (left <= 0) break;
  }
  return left;
}

function feed(hash: Fnv1a64, budget: number, text: string, suffix = ""): number {
  hash.update(text, budget);
  const left = budget - text.length;
  if (suffix !== "" && left > 0) hash.update(suffix);
  return left - suffix.length;
}
