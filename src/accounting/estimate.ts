/**
 * A cheap prompt-size estimate for routing decisions made before the node has counted anything.
 * Roughly four characters per token for English text; exact usage comes back from the node.
 */
const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** Sums the text of chat messages, including text parts of multi-part content. */
export function estimateChatTokens(messages: ReadonlyArray<{ content?: unknown }>): number {
  let chars = 0;
  for (const message of messages) {
    const content = message.content;
    if (typeof content === "string") chars += content.length;
    else if (Array.isArray(content)) {
      for (const part of content) {
        const text = (part as { text?: unknown }).text;
        if (typeof text === "string") chars += text.length;
      }
    }
    // Role markers and template tokens cost a few tokens per message.
    chars += 4 * CHARS_PER_TOKEN;
  }
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
