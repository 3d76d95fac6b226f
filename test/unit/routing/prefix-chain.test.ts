import { describe, expect, it } from "vitest";
import { CHAIN_EDGE_LINKS, LINK_EDGE_CHARS, prefixChain } from "../../../src/routing/index.js";

const system = { role: "system", content: "You answer from the document." } as const;
const doc = {
  role: "user",
  content: `Document: ${"lorem ipsum ".repeat(2000)}\n\nWhat is it about?`,
} as const;

describe("prefixChain", () => {
  it("gives two requests the same links exactly as far as their messages agree", () => {
    const first = prefixChain([system, doc]);
    const later = prefixChain([
      system,
      doc,
      { role: "assistant", content: "Lorem." },
      { role: "user", content: "More?" },
    ]);
    expect(later.slice(0, 2)).toEqual(first);
    expect(later.map((link) => link.messages)).toEqual([1, 2, 3, 4]);
    const other = prefixChain([system, { role: "user", content: "Another document" }]);
    expect(other[0]).toEqual(first[0]);
    expect(other[1]!.key).not.toBe(first[1]!.key);
  });

  it("tells long messages apart by either end and by length, without hashing all of them", () => {
    const body = "x".repeat(LINK_EDGE_CHARS * 3);
    const key = (content: string) => prefixChain([{ role: "user", content }])[0]!.key;
    expect(key(`a${body}`)).not.toBe(key(`b${body}`));
    expect(key(`${body}a`)).not.toBe(key(`${body}b`));
    expect(key(body)).not.toBe(key(`${body}x`));
  });

  it("keeps the links of a long conversation's opening and of its latest turns", () => {
    const messages = Array.from({ length: 40 }, (_, i) => ({
      role: i % 2 ? "assistant" : "user",
      content: `m${i}`,
    }));
    const links = prefixChain(messages);
    expect(links).toHaveLength(2 * CHAIN_EDGE_LINKS);
    expect(links[0]!.messages).toBe(1);
    expect(links.at(-1)!.messages).toBe(40);
  });
});
