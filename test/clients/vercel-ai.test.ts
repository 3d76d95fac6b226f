import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { embed, generateText, streamText } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHAT_MODEL,
  type ClientRig,
  EMBED_MODEL,
  expectSameVectors,
  GREEDY,
  onBoth,
  startClientRig,
  type Target,
} from "./rig.js";

/**
 * The Vercel AI SDK: `ai` with `@ai-sdk/openai-compatible` (chat completions), and `@ai-sdk/openai`,
 * whose default model speaks the Responses API. Each straight at llama-server and through the
 * gateway, with the same answers.
 */
let rig: ClientRig;
beforeAll(async () => {
  rig = await startClientRig();
});
afterAll(() => rig?.close());

const compatible = (target: Target, baseURL = target.chatURL) =>
  createOpenAICompatible({ name: "llama", baseURL, apiKey: "unused" });
const prompt = "Write one sentence about the sea.";
const settings = { maxOutputTokens: 12, maxRetries: 0, ...GREEDY };

describe("Vercel AI SDK: direct and through the gateway", () => {
  it("openai-compatible generateText and streamText give the same text", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const model = compatible(target).chatModel(CHAT_MODEL);
      const whole = await generateText({ model, prompt, ...settings });
      const stream = streamText({ model, prompt, ...settings });
      let streamed = "";
      for await (const part of stream.textStream) streamed += part;
      return { text: whole.text, streamed, outputTokens: whole.usage.outputTokens };
    });
    expect(gateway).toEqual(direct);
    expect(gateway.text.length).toBeGreaterThan(0);
  });

  it("openai-compatible embed gives the same vector", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const model = compatible(target, target.embedURL).embeddingModel(EMBED_MODEL);
      return (await embed({ model, value: "the sea", maxRetries: 0 })).embedding;
    });
    expectSameVectors([gateway], [direct]);
  });

  it("@ai-sdk/openai's default model (the Responses API) gives the same text, whole and streamed", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const model = createOpenAI({ baseURL: target.chatURL, apiKey: "unused" })(CHAT_MODEL);
      const whole = await generateText({ model, prompt, ...settings });
      // llama-server's Responses events lack `sequence_number` and `output_index`, which this SDK's
      // schemas demand: it reports each such event as an error and still streams the text. The
      // gateway relays the events unchanged, so it must see the same errors as a direct call.
      const rejected: string[] = [];
      const stream = streamText({ model, prompt, ...settings, onError: () => void rejected.push("event") });
      let streamed = "";
      for await (const part of stream.textStream) streamed += part;
      return { text: whole.text, streamed, rejected: rejected.length };
    });
    expect(gateway).toEqual(direct);
    expect(gateway.text.length).toBeGreaterThan(0);
  });
});
