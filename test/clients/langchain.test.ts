import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APP_MODEL,
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
 * LangChain JS (`@langchain/openai`): ChatOpenAI invoke, stream and bindTools, and
 * OpenAIEmbeddings, straight at llama-server and through the gateway.
 */
let rig: ClientRig;
beforeAll(async () => {
  rig = await startClientRig();
});
afterAll(() => rig?.close());

const chat = (target: Target, model = CHAT_MODEL) =>
  new ChatOpenAI({
    model,
    apiKey: "unused",
    maxRetries: 0,
    maxTokens: 12,
    ...GREEDY,
    configuration: { baseURL: target.chatURL },
  });
const question = "Write one sentence about the sea.";

describe("LangChain JS: direct and through the gateway", () => {
  it("ChatOpenAI invoke and stream give the same text", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const model = chat(target);
      const whole = await model.invoke(question);
      let streamed = "";
      for await (const chunk of await model.stream(question)) streamed += String(chunk.content);
      return { text: String(whole.content), streamed };
    });
    expect(gateway).toEqual(direct);
    expect(gateway.text.length).toBeGreaterThan(0);
  });

  it("a hard-coded model name works through the gateway's models.aliases", async () => {
    const direct = await chat(rig.direct).invoke(question);
    const aliased = await chat(rig.gateway, APP_MODEL).invoke(question);
    expect(String(aliased.content)).toBe(String(direct.content));
  });

  it("bindTools: the request with tools is answered alike", async () => {
    const weather = {
      type: "function" as const,
      function: {
        name: "get_weather",
        description: "Weather in a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    };
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const answer = await chat(target).bindTools([weather]).invoke("Weather in Paris?");
      return { text: String(answer.content), calls: answer.tool_calls?.length ?? 0 };
    });
    expect(gateway).toEqual(direct);
  });

  it("OpenAIEmbeddings gives the same vectors", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const embeddings = new OpenAIEmbeddings({
        model: EMBED_MODEL,
        apiKey: "unused",
        maxRetries: 0,
        configuration: { baseURL: target.embedURL },
      });
      return embeddings.embedDocuments(["the sea", "a ship"]);
    });
    expect(gateway).toHaveLength(2);
    expectSameVectors(gateway, direct);
  });
});
