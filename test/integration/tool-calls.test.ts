import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFleet, type TestFleet } from "../support/fleet.js";

/**
 * Tool calls pass through the gateway untouched, whole and streamed. The tiny real model almost
 * never emits one, so this runs on the sim, which makes the call a forcing `tool_choice` asks for
 * (as llama-server's grammar does with --jinja), and compares the SDK's view direct and through.
 */
const tools: OpenAI.Chat.ChatCompletionTool[] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  },
];
const request = {
  model: "tiny",
  messages: [{ role: "user" as const, content: "Weather in Paris?" }],
  tools,
  tool_choice: "required" as const,
  max_tokens: 6,
  seed: 3,
};

describe("tool calls through the gateway", () => {
  let fleet: TestFleet;
  let direct: OpenAI;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny", tokensPerSecond: 500 }]);
    direct = new OpenAI({ baseURL: `${fleet.sims[0]?.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(() => fleet?.close());

  const whole = async (client: OpenAI) => {
    const answer = await client.chat.completions.create(request);
    const choice = answer.choices[0];
    const call = choice?.message.tool_calls?.[0];
    return {
      finish: choice?.finish_reason,
      name: call?.type === "function" ? call.function.name : undefined,
      args: call?.type === "function" ? JSON.parse(call.function.arguments) : undefined,
    };
  };

  const streamed = async (client: OpenAI) => {
    const stream = await client.chat.completions.create({ ...request, stream: true });
    let name = "";
    let args = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      for (const call of choice?.delta.tool_calls ?? []) {
        name += call.function?.name ?? "";
        args += call.function?.arguments ?? "";
      }
      finish = choice?.finish_reason ?? finish;
    }
    return { finish, name, args: JSON.parse(args) };
  };

  it("passes a whole answer's tool call through as the node gave it", async () => {
    const viaGateway = await whole(fleet.client);
    expect(viaGateway).toEqual(await whole(direct));
    expect(viaGateway).toMatchObject({ finish: "tool_calls", name: "get_weather" });
    expect(viaGateway.args.city).toEqual(expect.any(String));
  });

  it("passes a streamed tool call's deltas through, assembling to the same call", async () => {
    const viaGateway = await streamed(fleet.client);
    expect(viaGateway).toEqual(await streamed(direct));
    expect(viaGateway).toMatchObject({ finish: "tool_calls", name: "get_weather" });
    expect(viaGateway.args.city).toEqual(expect.any(String));
  });
});
