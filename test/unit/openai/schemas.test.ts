import { describe, expect, it } from "vitest";
import { chatCompletionRequestSchema, completionRequestSchema } from "../../../src/openai/index.js";

/** The gateway checks what it relies on and lets the node judge the rest, as llama-server would. */

const chat = { model: "tiny", messages: [{ role: "user", content: "hi" }] };

describe("request schemas accept what OpenAI and llama-server accept", () => {
  it("accepts n > 1, many stop strings and llama.cpp extras", () => {
    const body = {
      ...chat,
      n: 2,
      stop: Array.from({ length: 20 }, (_, i) => `s${i}`),
      cache_prompt: true,
      id_slot: 0,
    };
    const parsed = chatCompletionRequestSchema.safeParse(body);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toMatchObject({ n: 2, cache_prompt: true, id_slot: 0 });
  });

  it("still refuses what the gateway cannot use", () => {
    expect(chatCompletionRequestSchema.safeParse({ ...chat, n: 0 }).success).toBe(false);
    expect(chatCompletionRequestSchema.safeParse({ ...chat, messages: [] }).success).toBe(false);
    expect(completionRequestSchema.safeParse({ model: "tiny", prompt: [] }).success).toBe(false);
  });

  it("accepts every completions prompt shape: text, texts, tokens, token arrays and mixes", () => {
    for (const prompt of ["a", ["a", "b"], [1, 2], [[1, 2], [3]], ["a", 1, [2, 3]]]) {
      expect(
        completionRequestSchema.safeParse({ model: "tiny", prompt }).success,
        JSON.stringify(prompt),
      ).toBe(true);
    }
  });
});
