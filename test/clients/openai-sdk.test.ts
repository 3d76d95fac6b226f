import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHAT_MODEL,
  type ClientRig,
  EMBED_MODEL,
  expectSameVectors,
  GREEDY,
  N_CTX,
  onBoth,
  startClientRig,
  type Target,
} from "./rig.js";

/**
 * The official `openai` SDK, straight at llama-server and through the gateway: the same calls must
 * give the same answers, the same error classes and the same retries.
 */
let rig: ClientRig;
beforeAll(async () => {
  rig = await startClientRig();
});
afterAll(() => rig?.close());

const chatClient = (target: Target, options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) =>
  new OpenAI({ baseURL: target.chatURL, apiKey: "unused", maxRetries: 0, ...options });
const messages = [{ role: "user" as const, content: "Write one sentence about the sea." }];

describe("openai SDK: direct and through the gateway", () => {
  it("chat: the same greedy answer, and the same text streamed", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const client = chatClient(target);
      const whole = await client.chat.completions.create({
        model: CHAT_MODEL,
        messages,
        max_tokens: 12,
        ...GREEDY,
      });
      const stream = await client.chat.completions.create({
        model: CHAT_MODEL,
        messages,
        max_tokens: 12,
        stream: true,
        stream_options: { include_usage: true },
        ...GREEDY,
      });
      let streamed = "";
      let usage: OpenAI.CompletionUsage | undefined | null;
      for await (const chunk of stream) {
        streamed += chunk.choices[0]?.delta.content ?? "";
        usage = chunk.usage ?? usage;
      }
      return { text: whole.choices[0]?.message.content, streamed, usage: whole.usage, streamUsage: usage };
    });
    expect(gateway.text).toBe(direct.text);
    expect(gateway.streamed).toBe(direct.streamed);
    expect(gateway.streamed).toBe(gateway.text);
    expect(gateway.usage?.completion_tokens).toBe(direct.usage?.completion_tokens);
    expect(gateway.streamUsage?.completion_tokens).toBe(direct.streamUsage?.completion_tokens);
  });

  it("completions: the same greedy text", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const completion = await chatClient(target).completions.create({
        model: CHAT_MODEL,
        prompt: "Once upon a time",
        max_tokens: 10,
        ...GREEDY,
      });
      return completion.choices[0]?.text;
    });
    expect(gateway).toBe(direct);
    expect(gateway?.length).toBeGreaterThan(0);
  });

  it("embeddings: the same vectors", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const client = new OpenAI({ baseURL: target.embedURL, apiKey: "unused", maxRetries: 0 });
      const result = await client.embeddings.create({ model: EMBED_MODEL, input: ["the sea", "a ship"] });
      return result.data.map((item) => item.embedding);
    });
    expect(gateway).toHaveLength(2);
    expectSameVectors(gateway, direct);
  });

  it("models: the chat model is listed under its name both ways", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const list = await chatClient(target).models.list();
      return list.data.map((model) => model.id);
    });
    expect(direct).toContain(CHAT_MODEL);
    expect(gateway).toContain(CHAT_MODEL);
  });

  it("responses: the same answer, whole and streamed", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const client = chatClient(target);
      const whole = await client.responses.create({
        model: CHAT_MODEL,
        input: "Write one sentence about the sea.",
        max_output_tokens: 12,
        ...GREEDY,
      });
      const stream = await client.responses.create({
        model: CHAT_MODEL,
        input: "Write one sentence about the sea.",
        max_output_tokens: 12,
        stream: true,
        ...GREEDY,
      });
      let streamed = "";
      let completed: OpenAI.Responses.Response | undefined;
      for await (const event of stream) {
        if (event.type === "response.output_text.delta") streamed += event.delta;
        if (event.type === "response.completed") completed = event.response;
      }
      return { text: whole.output_text, streamed, outputTokens: completed?.usage?.output_tokens };
    });
    expect(gateway.text).toBe(direct.text);
    expect(gateway.streamed).toBe(direct.streamed);
    expect(gateway.outputTokens).toBe(direct.outputTokens);
  });

  it("tools: the request with tools is accepted and answered alike", async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather in a city",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      },
    ];
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const answer = await chatClient(target).chat.completions.create({
        model: CHAT_MODEL,
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools,
        max_tokens: 16,
        ...GREEDY,
      });
      const choice = answer.choices[0];
      return {
        finish: choice?.finish_reason,
        content: choice?.message.content,
        calls: choice?.message.tool_calls,
      };
    });
    expect(gateway).toEqual(direct);
  });

  it("logprobs and n: the same shape of answer", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const answer = await chatClient(target).chat.completions.create({
        model: CHAT_MODEL,
        messages,
        max_tokens: 4,
        logprobs: true,
        top_logprobs: 2,
        n: 2,
        ...GREEDY,
      });
      return answer.choices.map((choice) => ({
        tokens: choice.logprobs?.content?.length,
        top: choice.logprobs?.content?.[0]?.top_logprobs.length,
      }));
    });
    expect(gateway).toEqual(direct);
    expect(gateway[0]?.tokens).toBeGreaterThan(0);
  });

  it("errors: a prompt over the context is a BadRequestError (400) with n_ctx both ways", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const error = await chatClient(target)
        .chat.completions.create({
          model: CHAT_MODEL,
          messages: [{ role: "user", content: "word ".repeat(N_CTX * 2) }],
          max_tokens: 2,
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
      return { status: bad.status, nCtx: (bad.error as { n_ctx?: number } | undefined)?.n_ctx };
    });
    expect(gateway).toEqual(direct);
    expect(gateway.nCtx).toBeGreaterThan(0);
  });

  it("retries: the SDK retries a server error through the gateway as it does a dead node", async () => {
    await rig.chatNode.stop();
    try {
      const count = async (target: Target) => {
        let calls = 0;
        const client = chatClient(target, {
          maxRetries: 2,
          fetch: (url, init) => {
            calls += 1;
            return fetch(url, init);
          },
        });
        const error = await client.chat.completions
          .create({ model: CHAT_MODEL, messages, max_tokens: 2 })
          .catch((err: unknown) => err);
        return { calls, error };
      };
      const direct = await count(rig.direct);
      // Once the gateway has seen the node go, it answers 503 with Retry-After, which the SDK honours.
      await waitForStatus(rig, 503);
      const gateway = await count(rig.gateway);
      expect(direct.error).toBeInstanceOf(OpenAI.APIConnectionError);
      expect(gateway.error).toBeInstanceOf(OpenAI.InternalServerError);
      expect((gateway.error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
      expect(gateway.calls).toBe(direct.calls);
      expect(gateway.calls).toBe(3);
    } finally {
      await rig.chatNode.restart();
      await waitForStatus(rig, 200);
    }
  });
});

async function waitForStatus(rig: ClientRig, status: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${rig.gateway.chatURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: CHAT_MODEL, messages, max_tokens: 1 }),
    });
    await res.arrayBuffer();
    if (res.status === status) return;
    if (Date.now() > deadline) throw new Error(`the gateway never answered ${status} (last ${res.status})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
