import { describe, expect, it } from "vitest";
import { chatMessageTokens, estimateChatTokens, estimateTokens } from "../../../src/accounting/index.js";

describe("token estimate", () => {
  it("counts with cl100k_base", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("hello world")).toBe(2);
  });

  it("treats special-token text as plain text instead of throwing", () => {
    expect(estimateTokens("<|endoftext|>")).toBeGreaterThan(1);
  });

  it("adds a per-message overhead and counts text parts", () => {
    const messages = [
      { role: "system", content: "hello world" },
      { role: "user", content: [{ type: "text", text: "hello world" }] },
    ];
    expect(chatMessageTokens(messages)).toEqual([6, 6]);
    expect(estimateChatTokens(messages)).toBe(12);
  });
});
