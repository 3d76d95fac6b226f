import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../../src/openai/schemas.js";
import {
  PREFIX_KEY_MAX_CHARS,
  prefixKeyForChat,
  prefixKeyForPrompt,
  systemPromptKey,
} from "../../../src/routing/index.js";

const system = { role: "system", content: "You are a helpful assistant." } as const;

describe("prefixKeyForChat", () => {
  it("is equal for two turns of the same conversation", () => {
    const turn1: ChatMessage[] = [system, { role: "user", content: "Plan a trip to Lisbon." }];
    const turn2: ChatMessage[] = [
      ...turn1,
      { role: "assistant", content: "Day 1: Alfama..." },
      { role: "user", content: "Make it cheaper." },
    ];
    expect(prefixKeyForChat(turn1)).toBe(prefixKeyForChat(turn2));
    expect(prefixKeyForChat(turn1)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("differs across system prompts and across conversations", () => {
    const opening = { role: "user", content: "Hello" } as const;
    const base = prefixKeyForChat([system, opening]);
    expect(prefixKeyForChat([{ role: "system", content: "You are terse." }, opening])).not.toBe(base);
    expect(prefixKeyForChat([system, { role: "user", content: "Hi" }])).not.toBe(base);
    expect(prefixKeyForChat([opening])).not.toBe(base);
  });

  it("reads text parts and keeps message boundaries", () => {
    const parts: ChatMessage = { role: "user", content: [{ type: "text", text: "ab" }] };
    expect(prefixKeyForChat([parts])).toBe(
      prefixKeyForChat([{ role: "user", content: [{ type: "text", text: "ab" }] }]),
    );
    expect(prefixKeyForChat([parts])).not.toBe(prefixKeyForChat([{ role: "user", content: "ab" }]));
    const split = [
      { role: "system", content: "ab" },
      { role: "system", content: "c" },
    ];
    expect(prefixKeyForChat(split)).not.toBe(
      prefixKeyForChat([
        { role: "system", content: "a" },
        { role: "system", content: "bc" },
      ]),
    );
  });

  it("hashes a bounded length", () => {
    const long = "x".repeat(PREFIX_KEY_MAX_CHARS);
    expect(prefixKeyForChat([{ role: "system", content: `${long}A` }])).toBe(
      prefixKeyForChat([{ role: "system", content: `${long}B` }]),
    );
    expect(prefixKeyForChat([])).toBeUndefined();
  });
});

describe("systemPromptKey", () => {
  it("is shared by different conversations under one system prompt, and only by them", () => {
    const lisbon: ChatMessage[] = [system, { role: "user", content: "Plan a trip to Lisbon." }];
    const porto: ChatMessage[] = [system, { role: "user", content: "Plan a trip to Porto." }];
    expect(systemPromptKey(lisbon)).toBe(systemPromptKey(porto));
    expect(prefixKeyForChat(lisbon)).not.toBe(prefixKeyForChat(porto));
    const other: ChatMessage[] = [{ role: "system", content: "You are terse." }, lisbon[1]!];
    expect(systemPromptKey(other)).not.toBe(systemPromptKey(lisbon));
  });

  it("is undefined without a leading system or developer message", () => {
    expect(systemPromptKey([{ role: "user", content: "hi" }])).toBeUndefined();
    expect(systemPromptKey([])).toBeUndefined();
  });
});

describe("prefixKeyForPrompt", () => {
  it("is standard FNV-1a 64 for an ASCII prompt", () => {
    expect(prefixKeyForPrompt("a")).toBe("af63dc4c8601ec8c");
    expect(prefixKeyForPrompt("foobar")).toBe("85944171f73967e8");
  });

  it("keys on the first characters, the first prompt of a batch, or the first tokens", () => {
    const head = "y".repeat(PREFIX_KEY_MAX_CHARS);
    expect(prefixKeyForPrompt(`${head}1`)).toBe(prefixKeyForPrompt(`${head}2`));
    expect(prefixKeyForPrompt(["abc", "def"])).toBe(prefixKeyForPrompt("abc"));
    expect(prefixKeyForPrompt([1, 2, 3])).not.toBe(prefixKeyForPrompt([1, 23]));
    expect(prefixKeyForPrompt([[1, 2, 3], [4]])).toBe(prefixKeyForPrompt([1, 2, 3]));
    expect(prefixKeyForPrompt("")).toBeUndefined();
    expect(prefixKeyForPrompt([])).toBeUndefined();
  });
});
