import { describe, expect, it } from "vitest";
import {
  type Completion,
  chatBody,
  type Json,
  json,
  metric,
  post,
  readEvents,
  readSomeEvents,
  sim,
  until,
} from "./helpers.js";

const ENVELOPE = ["id", "object", "created", "model", "system_fingerprint"];

describe("sim node: chat completions", () => {
  it("answers non-streaming with OpenAI shape, usage and consistent timings", async () => {
    const node = await sim();
    const res = await post(node, "/v1/chat/completions", chatBody());
    expect(res.status).toBe(200);
    const body = await json<Completion>(res);
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "tiny",
      id: expect.stringMatching(/^chatcmpl-/),
    });
    expect(body.choices[0]).toMatchObject({
      index: 0,
      message: { role: "assistant", content: expect.any(String) },
    });
    const { usage, timings } = body;
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    expect(usage.prompt_tokens_details).toEqual({ cached_tokens: 0 });
    expect(timings.cache_n + timings.prompt_n).toBe(usage.prompt_tokens);
    expect(timings.predicted_n).toBe(usage.completion_tokens);
    expect(timings.predicted_per_second).toBeGreaterThan(0);
    expect(timings.prompt_per_token_ms).toBeCloseTo(timings.prompt_ms / timings.prompt_n, 6);
  });

  it("streams role chunk, one chunk per token, finish chunk, usage chunk, then [DONE]", async () => {
    const node = await sim();
    const res = await post(
      node,
      "/v1/chat/completions",
      chatBody("stream please", { stream: true, stream_options: { include_usage: true }, max_tokens: 6 }),
    );
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await readEvents(res);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as Json[];
    for (const chunk of chunks) {
      for (const field of ENVELOPE) expect(chunk).toHaveProperty(field);
      expect(chunk.object).toBe("chat.completion.chunk");
      expect(chunk.id).toBe(chunks[0]?.id);
    }
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: null });
    const tokens = chunks.slice(1, -2);
    expect(tokens).toHaveLength(6);
    for (const chunk of tokens) {
      expect(chunk.choices[0]).toMatchObject({ finish_reason: null, delta: { content: expect.any(String) } });
    }
    expect(chunks.at(-2)?.choices[0]).toMatchObject({ finish_reason: "length", delta: {} });
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage).toMatchObject({
      completion_tokens: 6,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(usageChunk?.timings).toMatchObject({ predicted_n: 6 });
  });

  it("puts timings on the finish chunk when usage is not asked for", async () => {
    const node = await sim();
    const events = await readEvents(
      await post(node, "/v1/chat/completions", chatBody("x", { stream: true })),
    );
    const last = events.at(-2) as Json;
    expect(last.choices[0]?.finish_reason).toBe("stop");
    expect(last).toHaveProperty("timings");
    expect(last).not.toHaveProperty("usage");
  });

  it("is deterministic given seed and prompt, and stops naturally without a limit", async () => {
    const node = await sim();
    const a = await json<Completion>(post(node, "/v1/chat/completions", chatBody("same")));
    const b = await json<Completion>(post(node, "/v1/chat/completions", chatBody("same")));
    const c = await json<Completion>(post(node, "/v1/chat/completions", chatBody("same", { seed: 7 })));
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
    expect(c.choices[0]?.message.content).not.toBe(a.choices[0]?.message.content);
    expect(a.choices[0]?.finish_reason).toBe("stop");
    const short = await json<Completion>(
      post(node, "/v1/chat/completions", chatBody("same", { max_completion_tokens: 2 })),
    );
    expect(short.choices[0]?.finish_reason).toBe("length");
    expect(short.usage.completion_tokens).toBe(2);
  });

  it("generates up to the limit with llama-server's ignore_eos", async () => {
    const node = await sim();
    const body = chatBody("same", { max_tokens: 200, ignore_eos: true });
    const long = await json<Completion>(post(node, "/v1/chat/completions", body));
    expect(long.usage.completion_tokens).toBe(200);
    expect(long.choices[0]?.finish_reason).toBe("length");
  });
});

describe("sim node: text completions", () => {
  it("answers non-streaming and streaming in text_completion shape", async () => {
    const node = await sim();
    const body = await json<Completion>(
      post(node, "/v1/completions", { prompt: "Once upon a time", max_tokens: 3 }),
    );
    expect(body).toMatchObject({
      object: "text_completion",
      usage: { completion_tokens: 3 },
      timings: { predicted_n: 3 },
    });
    expect(body.choices[0]).toMatchObject({ index: 0, text: expect.any(String), finish_reason: "length" });
    const events = await readEvents(
      await post(node, "/v1/completions", { prompt: "Once upon a time", max_tokens: 3, stream: true }),
    );
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as Array<Json & { choices: Array<{ text: string }> }>;
    expect(chunks.map((c) => c.choices[0]?.text).join("")).toBe(body.choices[0]?.text);
    expect(chunks.at(-1)).toMatchObject({ usage: { completion_tokens: 3 }, timings: expect.any(Object) });
  });
});

describe("sim node: slots and prompt cache", () => {
  it("reuses the conversation prefix from the slot cache: cached_tokens > 0 and a shorter prefill", async () => {
    // A slow prefill, so that the whole prompt would take seconds: a loaded machine can only lengthen
    // the short cached prefill, and has to stall it for about two seconds to make it look uncached.
    const ttftMs = 5;
    const prefillTokensPerSecond = 200;
    const node = await sim({ slots: 2, ttftMs, prefillTokensPerSecond });
    const prefillMs = (tokens: number) => ttftMs + (tokens * 1000) / prefillTokensPerSecond;
    const system = { role: "system", content: "You are a careful assistant. ".repeat(40) };
    const first = { role: "user", content: "Tell me about slots." };
    const turn1 = await json<Completion>(post(node, "/v1/chat/completions", { messages: [system, first] }));
    expect(turn1.usage.prompt_tokens_details.cached_tokens).toBe(0);
    const messages = [system, first, turn1.choices[0]?.message, { role: "user", content: "And the cache?" }];
    const turn2 = await json<Completion>(post(node, "/v1/chat/completions", { messages }));
    const cached = turn2.usage.prompt_tokens_details.cached_tokens;
    // The whole first turn, prompt and answer, is a prefix of the second prompt.
    expect(cached).toBe(turn1.usage.prompt_tokens + turn1.usage.completion_tokens);
    expect(turn2.timings.cache_n).toBe(cached);
    expect(turn2.timings.prompt_n).toBe(turn2.usage.prompt_tokens - cached);
    // Timers never fire early: the uncached first turn took at least its pace.
    expect(turn1.timings.prompt_ms).toBeGreaterThanOrEqual(prefillMs(turn1.timings.prompt_n) - 1);
    expect(turn2.timings.prompt_ms).toBeLessThan(prefillMs(turn2.usage.prompt_tokens));
  });

  it("queues requests when every slot is busy and reports them as deferred", async () => {
    // The first request holds the only slot until the test lets go, so the queue is read while it
    // surely holds the other two: a 30 ms answer could be done before a starved test looked.
    const node = await sim({ slots: 1, tokensPerSecond: 200, faults: { hangMidStreamAfterTokens: 2 } });
    const holder = new AbortController();
    const held = post(node, "/v1/chat/completions", chatBody("q0", { max_tokens: 6 }), {
      signal: holder.signal,
    }).catch((error: unknown) => error);
    await until(() => node.stats().busySlots === 1, 10_000);
    // Faults apply as they were when a request arrived: only the holder hangs.
    node.setFaults({ hangMidStreamAfterTokens: null });
    const requests = [1, 2].map((i) =>
      post(node, "/v1/chat/completions", chatBody(`q${i}`, { max_tokens: 6 })),
    );
    await until(async () => (await metric(node, "requests_deferred")) === 2, 10_000);
    expect(await metric(node, "requests_processing")).toBe(1);
    expect(node.stats()).toMatchObject({ busySlots: 1, deferred: 2 });
    const slots = await json<unknown[]>(fetch(`${node.url}/slots`));
    expect(slots[0]).toMatchObject({
      is_processing: true,
      n_prompt_tokens: expect.any(Number),
      next_token: [{ has_next_token: true, n_remain: expect.any(Number) }],
    });
    holder.abort();
    expect(await held).toMatchObject({ name: "AbortError" });
    const bodies = await Promise.all(requests.map((r) => json<Completion>(r)));
    expect(bodies.map((b) => b.usage.completion_tokens)).toEqual([6, 6]);
    expect(await metric(node, "requests_deferred")).toBe(0);
  });

  it("stops generating and frees the slot as soon as the client aborts", async () => {
    // 20 s of decoding: a slot free within the 10 s waited below was freed by the abort. A count of
    // tokens would not tell, since a starved sim sends every overdue token at once when it wakes.
    const maxTokens = 2000;
    const node = await sim({ slots: 1, tokensPerSecond: 100 });
    const controller = new AbortController();
    const res = await post(
      node,
      "/v1/chat/completions",
      chatBody("long", { stream: true, max_tokens: maxTokens }),
      {
        signal: controller.signal,
      },
    );
    await readSomeEvents(res, 3);
    expect(node.stats().busySlots).toBe(1);
    controller.abort();
    await until(() => node.stats().busySlots === 0, 10_000);
    expect(node.stats().tokensGenerated).toBeLessThan(maxTokens);
    expect(node.stats().requestsAborted).toBe(1);
    const next = await post(node, "/v1/chat/completions", chatBody("after", { max_tokens: 2 }));
    expect(next.status).toBe(200);
  });

  it("delays every response's headers by the simulated round trip", async () => {
    const node = await sim({ rttMs: 60 });
    const started = performance.now();
    await fetch(`${node.url}/health`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});
