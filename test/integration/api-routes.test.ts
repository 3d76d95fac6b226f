import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseDecoder, type SseEvent } from "../../src/openai/index.js";
import { startFleet, type TestFleet } from "../support/fleet.js";
import { bodyOf, OutcomeRecorder, sendJson } from "../support/outcomes.js";

/**
 * Every inference route llama-server serves goes through the gateway like chat does (issue 16
 * part 2): with and without /v1, streamed and not, with the call's usage counted, failover before
 * the first byte, and an explicit error, in the endpoint's own dialect, when a stream breaks.
 */
const root = (fleet: TestFleet) => fleet.baseURL.replace(/\/v1$/, "");

function eventsOf(text: string): SseEvent[] {
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.flush()];
}

describe("llama-server's other routes through the gateway", () => {
  let fleet: TestFleet;
  let outcomes: OutcomeRecorder;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny", tokensPerSecond: 400 }]);
    outcomes = new OutcomeRecorder(fleet);
  });
  afterAll(() => fleet?.close());

  it("answers the Responses API with the SDK, counting input and output tokens", async () => {
    const response = await fleet.client.responses.create({
      model: "tiny",
      input: "hello there",
      max_output_tokens: 6,
    });
    expect(response.object).toBe("response");
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.usage?.output_tokens).toBeGreaterThan(0);
  });

  it("streams the Responses API to the SDK up to response.completed, usage settled exactly", async () => {
    const id = outcomes.nextId("responses-stream");
    const stream = await fleet.client.responses.create(
      { model: "tiny", input: "hello there", max_output_tokens: 6, stream: true },
      { headers: { "x-request-id": id } },
    );
    const types: string[] = [];
    let text = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(text.length).toBeGreaterThan(0);
    const outcome = await outcomes.once(id);
    expect(outcome).toMatchObject({ kind: "responses", stream: true, status: 200, errorCode: undefined });
    expect(outcome.usage).toMatchObject({ source: "exact", completionTokens: 6 });
    expect(outcome.usage?.promptTokens).toBeGreaterThan(0);
  });

  it("answers Anthropic's Messages API, streamed and not, with its usage", async () => {
    const body = { model: "tiny", max_tokens: 5, messages: [{ role: "user", content: "hi" }] };
    const whole = await sendJson(fleet, "/messages", body, outcomes.nextId("messages"));
    expect(whole.status).toBe(200);
    const message = (await whole.json()) as { type: string; content: { text: string }[] };
    expect(message.type).toBe("message");
    expect(message.content[0]?.text.length).toBeGreaterThan(0);

    const id = outcomes.nextId("messages-stream");
    const streamed = await sendJson(fleet, "/messages", { ...body, stream: true }, id);
    const events = eventsOf((await bodyOf(streamed)).text);
    expect(events[0]?.event).toBe("message_start");
    expect(events.at(-1)?.event).toBe("message_stop");
    const outcome = await outcomes.once(id);
    expect(outcome).toMatchObject({ kind: "messages", status: 200, errorCode: undefined });
    expect(outcome.usage).toMatchObject({ source: "exact", completionTokens: 5 });
    expect(outcome.usage?.promptTokens).toBeGreaterThan(0);
  });

  it("serves rerank under all four of llama-server's paths", async () => {
    for (const path of ["/v1/rerank", "/rerank", "/v1/reranking", "/reranking"]) {
      const res = await fetch(`${root(fleet)}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "red fox", documents: ["a red fox", "blue sky", "tax law"], top_n: 2 }),
      });
      expect(res.status, path).toBe(200);
      const body = (await res.json()) as { results: { index: number; relevance_score: number }[] };
      expect(body.results).toHaveLength(2);
      expect(body.results[0]!.relevance_score).toBeGreaterThanOrEqual(body.results[1]!.relevance_score);
    }
  });

  it("serves the tokenizer utilities with and without /v1, no model needed on a one-model fleet", async () => {
    for (const prefix of ["", "/v1"]) {
      const post = (path: string, body: unknown) =>
        fetch(`${root(fleet)}${prefix}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const tokens = (
        (await (await post("/tokenize", { content: "hello world" })).json()) as { tokens: number[] }
      ).tokens;
      expect(tokens.length).toBeGreaterThan(0);
      const detok = (await (await post("/detokenize", { tokens })).json()) as { content: string };
      expect(detok.content).toContain("hello");
      const template = (await (
        await post("/apply-template", { messages: [{ role: "user", content: "hi" }] })
      ).json()) as { prompt: string };
      expect(template.prompt).toContain("hi");
    }
  });

  it("streams /infill to its last chunk (stop: true), without [DONE]", async () => {
    const res = await fetch(`${root(fleet)}/infill`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        input_prefix: "def add(a, b):\n",
        input_suffix: "\n",
        n_predict: 4,
        stream: true,
      }),
    });
    expect(res.status).toBe(200);
    const events = eventsOf(await res.text());
    const last = JSON.parse(events.at(-1)?.data ?? "{}") as { stop?: boolean; error?: unknown };
    expect(last.error).toBeUndefined();
    expect(last.stop).toBe(true);
  });

  it("answers a wrong method on a known path with 405 and Allow", async () => {
    const get = await fetch(`${fleet.baseURL}/responses`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(((await get.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
    const post = await fetch(`${fleet.baseURL}/models`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  });
});

describe("failures on the other routes", () => {
  it("fails a Responses stream over to another node before its first byte", async () => {
    const fleet = await startFleet([{ model: "tiny", faults: { errorRate: 1 } }, { model: "tiny" }], {
      config: { routing: { strategy: "round-robin", affinity: false } },
    });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await sendJson(
          fleet,
          "/responses",
          { model: "tiny", input: "hi", max_output_tokens: 3, stream: true },
          `fo-${i}`,
        );
        expect(res.status).toBe(200);
        expect(eventsOf((await bodyOf(res)).text).at(-1)?.event).toBe("response.completed");
      }
    } finally {
      await fleet.close();
    }
  });

  it("ends a Messages stream that breaks mid-answer with an Anthropic error event, not a continuation", async () => {
    const fleet = await startFleet([{ model: "tiny", faults: { dieAfterTokens: 3 } }], {
      config: { resilience: { continuation: true } },
    });
    try {
      const body = {
        model: "tiny",
        max_tokens: 20,
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      };
      const res = await sendJson(fleet, "/messages", body, "broken-messages");
      expect(res.status).toBe(200);
      const last = eventsOf((await bodyOf(res)).text).at(-1);
      expect(last?.event).toBe("error");
      expect(JSON.parse(last?.data ?? "{}")).toMatchObject({
        type: "error",
        error: { code: "stream_interrupted" },
      });
    } finally {
      await fleet.close();
    }
  });

  it("does not continue a chat stream that asked for logprobs: it ends with an explicit error", async () => {
    const fleet = await startFleet([{ model: "tiny", faults: { dieAfterTokens: 3 } }, { model: "tiny" }], {
      config: { routing: { strategy: "round-robin", affinity: false }, resilience: { continuation: true } },
    });
    try {
      const chat = {
        model: "tiny",
        max_tokens: 12,
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      };
      const send = async (id: string, extra: Record<string, unknown>) => {
        // Round robin: each pair's first request goes to the dying node-0.
        const res = await sendJson(fleet, "/chat/completions", { ...chat, ...extra }, id);
        const text = (await bodyOf(res)).text;
        await (await sendJson(fleet, "/chat/completions", { ...chat, stream: false }, `${id}-next`)).text();
        return text;
      };
      const plain = await send("plain", {});
      expect(plain.trimEnd().endsWith("data: [DONE]")).toBe(true);
      const withLogprobs = await send("logprobs", { logprobs: true, top_logprobs: 2 });
      expect(withLogprobs).not.toContain("[DONE]");
      expect(JSON.parse(eventsOf(withLogprobs).at(-1)?.data ?? "{}")).toMatchObject({
        error: { code: "stream_interrupted" },
      });
    } finally {
      await fleet.close();
    }
  });
});
