import { describe, expect, it } from "vitest";
import { extractUsage } from "../../../src/openai/index.js";

/** Every endpoint's usage lands in one shape, so accounting charges Responses and Messages calls too. */
describe("usage from every endpoint", () => {
  it("reads OpenAI's usage as it is", () => {
    const usage = { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 };
    expect(extractUsage({ usage }).usage).toEqual(usage);
  });

  it("reads a Responses answer and its streamed response.completed event", () => {
    const usage = {
      input_tokens: 10,
      output_tokens: 5,
      total_tokens: 15,
      input_tokens_details: { cached_tokens: 8 },
    };
    const expected = {
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 8 },
    };
    expect(extractUsage({ object: "response", usage }).usage).toEqual(expected);
    expect(extractUsage({ type: "response.completed", response: { usage } }).usage).toEqual(expected);
  });

  it("joins Anthropic's message_start prompt and message_delta output, the cached prompt counted in", () => {
    const start = extractUsage({
      type: "message_start",
      message: { usage: { cache_read_input_tokens: 6, input_tokens: 4, output_tokens: 0 } },
    }).usage;
    expect(start).toMatchObject({ prompt_tokens: 10, completion_tokens: 0 });
    const delta = extractUsage({ type: "message_delta", usage: { output_tokens: 9 } }, start).usage;
    expect(delta).toEqual({
      prompt_tokens: 10,
      completion_tokens: 9,
      total_tokens: 19,
      prompt_tokens_details: { cached_tokens: 6 },
    });
  });

  it("ignores what is not usage", () => {
    expect(extractUsage({ usage: { tokens: "many" } }).usage).toBeUndefined();
    expect(extractUsage({ type: "response.output_text.delta", delta: "x" }).usage).toBeUndefined();
  });
});
