import { describe, expect, it } from "vitest";
import { type Completion, chatBody, type ErrorBody, json, post, sim } from "./helpers.js";

interface Embeddings {
  data: Array<{ embedding: number[]; index: number }>;
}

describe("sim node: probe endpoints", () => {
  it("answers /health and /v1/health like llama-server", async () => {
    const node = await sim();
    for (const path of ["/health", "/v1/health"]) {
      const res = await fetch(node.url + path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
    }
  });

  it("lists its model on /v1/models and /models", async () => {
    const node = await sim({ model: "qwen-mini" });
    for (const path of ["/v1/models", "/models"]) {
      const body = await json(fetch(node.url + path));
      expect(body.object).toBe("list");
      expect(body.data).toEqual([
        expect.objectContaining({
          id: "qwen-mini",
          object: "model",
          owned_by: "llamacpp",
          meta: expect.any(Object),
        }),
      ]);
    }
  });

  it("describes itself on /props", async () => {
    const node = await sim({ slots: 3, nCtx: 2048 });
    const props = await json(fetch(`${node.url}/props`));
    expect(props).toMatchObject({
      total_slots: 3,
      default_generation_settings: { n_ctx: 2048 },
      model_alias: "tiny",
      model_path: expect.stringContaining("tiny"),
      chat_template: expect.stringContaining("im_start"),
      build_info: expect.any(String),
      modalities: { vision: false },
    });
    expect(props).not.toHaveProperty("region");
  });

  it("shows one entry per slot on /slots", async () => {
    const node = await sim({ slots: 2 });
    const slots = await json<unknown[]>(fetch(`${node.url}/slots`));
    expect(slots).toHaveLength(2);
    // Like llama-server, an idle slot shows only its identity.
    expect(slots[1]).toEqual({ id: 1, n_ctx: 4096, speculative: false, is_processing: false });
  });

  it("exports llama.cpp's Prometheus metrics, counting the work done", async () => {
    const node = await sim();
    await json(post(node, "/v1/chat/completions", chatBody("count me", { max_tokens: 4 })));
    const res = await fetch(`${node.url}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    for (const name of [
      "prompt_tokens_total",
      "prompt_seconds_total",
      "tokens_predicted_total",
      "tokens_predicted_seconds_total",
      "n_decode_total",
      "n_busy_slots_per_decode",
      "n_tokens_max",
      "prompt_tokens_seconds",
      "predicted_tokens_seconds",
      "requests_processing",
      "requests_deferred",
    ]) {
      expect(text).toMatch(new RegExp(`^# TYPE llamacpp:${name} (counter|gauge)$`, "m"));
    }
    expect(text).toMatch(/^llamacpp:tokens_predicted_total 4$/m);
    expect(text).toMatch(/^llamacpp:requests_processing 0$/m);
  });
});

describe("sim node: utility endpoints", () => {
  it("tokenizes and detokenizes back to the same text", async () => {
    const node = await sim();
    const content = "The quick brown fox, jumping!\nNew line.";
    const { tokens } = await json<{ tokens: number[] }>(post(node, "/tokenize", { content }));
    expect(tokens.length).toBeGreaterThan(5);
    expect(tokens.every(Number.isInteger)).toBe(true);
    const back = await json(post(node, "/detokenize", { tokens }));
    expect(back).toEqual({ content });
    const withPieces = await json<{ tokens: unknown[] }>(
      post(node, "/tokenize", { content: "hello", with_pieces: true }),
    );
    expect(withPieces.tokens[0]).toEqual({ id: expect.any(Number), piece: "hell" });
  });

  it("renders the chat template on /apply-template, the same prompt a chat request is counted on", async () => {
    const node = await sim();
    const body = chatBody("What is up?", { max_tokens: 1 });
    const { prompt } = await json<{ prompt: string }>(
      post(node, "/apply-template", { messages: body.messages }),
    );
    expect(prompt).toContain("<|im_start|>user\nWhat is up?<|im_end|>\n");
    expect(prompt.endsWith("<|im_start|>assistant\n")).toBe(true);
    const { tokens } = await json<{ tokens: number[] }>(post(node, "/tokenize", { content: prompt }));
    const chat = await json<Completion>(post(node, "/v1/chat/completions", body));
    expect(chat.usage.prompt_tokens).toBe(tokens.length);
  });

  it("returns deterministic, normalised embeddings for string and array input", async () => {
    const node = await sim();
    const one = await json<Embeddings>(post(node, "/v1/embeddings", { model: "tiny", input: "hello world" }));
    expect(one).toMatchObject({
      object: "list",
      model: "tiny",
      usage: { prompt_tokens: expect.any(Number) },
    });
    const vector = one.data[0]?.embedding ?? [];
    expect(vector).toHaveLength(64);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 6);
    const many = await json<Embeddings>(
      post(node, "/v1/embeddings", { model: "tiny", input: ["hello world", "other"] }),
    );
    expect(many.data.map((d) => d.index)).toEqual([0, 1]);
    expect(many.data[0]?.embedding).toEqual(vector);
    expect(many.data[1]?.embedding).not.toEqual(vector);
  });

  it("answers embeddings with 501 when started without them", async () => {
    const node = await sim({ embeddings: false });
    const res = await post(node, "/v1/embeddings", { input: "x" });
    expect(res.status).toBe(501);
    expect((await json<ErrorBody>(res)).error).toMatchObject({ code: 501, type: "not_supported_error" });
  });
});

describe("sim node: errors in llama's envelope", () => {
  it("answers invalid JSON with 500 server_error, as llama-server's JSON parser does", async () => {
    const node = await sim();
    const res = await post(node, "/v1/chat/completions", "{not json");
    expect(res.status).toBe(500);
    expect(await json(res)).toEqual({
      error: { code: 500, message: expect.stringContaining("parse error"), type: "server_error" },
    });
  });

  it("rejects a prompt that does not fit the slot context with exceed_context_size_error", async () => {
    const node = await sim({ nCtx: 32 });
    const res = await post(node, "/v1/completions", { prompt: "word ".repeat(40).trim() });
    expect(res.status).toBe(400);
    expect((await json<ErrorBody>(res)).error).toMatchObject({
      code: 400,
      type: "exceed_context_size_error",
      n_prompt_tokens: 40,
      n_ctx: 32,
    });
  });

  it("answers unknown routes with 404 not_found_error", async () => {
    const node = await sim();
    const res = await fetch(`${node.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect((await json<ErrorBody>(res)).error).toMatchObject({ code: 404, type: "not_found_error" });
  });
});
