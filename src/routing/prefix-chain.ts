import { Fnv1a64 } from "./hash.js";
import type { PrefixMessage } from "./prefix-key.js";

/** One link of a chain: the key of the conversation's first `messages` messages. */
export interface PrefixLink {
  readonly key: string;
  readonly messages: number;
}

/**
 * Characters hashed from each end of a message. Two messages that agree on both ends and their length
 * but differ in the middle collide, which costs only a cache miss; hashing all of a long document on
 * every request would cost time on the hot path.
 */
export const LINK_EDGE_CHARS = 2048;
/** Links kept from each end of a long conversation: shared openings early, the last turn late. */
export const CHAIN_EDGE_LINKS = 8;

/**
 * Chained hashes over the message sequence, a radix tree in spirit: link i keys messages 0..i, each
 * link hashing on from the one before, so two requests share link i exactly when they share their
 * first i+1 messages. A node that served a request holds every link of it in its slot cache; the
 * longest link of a new request that a node is known to hold is the prefix it need not prefill again,
 * whether the prefix is an earlier turn of the same conversation or a long system prompt and document
 * that other conversations (agents, RAG) opened with too.
 */
export function prefixChain(messages: readonly PrefixMessage[]): PrefixLink[] {
  const hash = new Fnv1a64();
  const links: PrefixLink[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    hash.update(message.role);
    hash.update("\u001f");
    feedContent(hash, message.content);
    hash.update("\u001e");
    if (i < CHAIN_EDGE_LINKS || i >= messages.length - CHAIN_EDGE_LINKS) {
      links.push({ key: `c:${hash.hex()}`, messages: i + 1 });
    }
  }
  return links;
}

function feedContent(hash: Fnv1a64, content: PrefixMessage["content"]): void {
  if (typeof content === "string") {
    feedEdges(hash, content);
    return;
  }
  for (const part of content ?? []) {
    hash.update(part.type);
    hash.update("\u001f");
    if (typeof part.text === "string") feedEdges(hash, part.text);
  }
}

/** Both ends and the length: what a person would change when editing a message mostly shows there. */
function feedEdges(hash: Fnv1a64, text: string): void {
  if (text.length <= 2 * LINK_EDGE_CHARS) {
    hash.update(text);
    return;
  }
  hash.update(text, LINK_EDGE_CHARS);
  hash.update(String(text.length));
  hash.update(text.slice(-LINK_EDGE_CHARS));
}
