import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startFleet, type TestFleet } from "../support/fleet.js";

const messages = [
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Say something about gateways." },
];

describe("OpenAI-compatible proxying through the gateway", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }, { model: "tiny" }, { model: "other", embeddings: true }], {
      config: { routing: { strategy: "round-robin" } },
    });
  });
  afterAll(() => fleet.close());

  it("answers a chat completion with usage, timings and routing headers", async () => {
    const { data, response } = await fleet.client.chat.completions
      .create({ model: "tiny", messages, max_tokens: 12 })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBe(12);
    expect((data as unknown as { timings: { predicted_n: number } }).timings.predicted_n).toBe(12);
    expect(response.headers.get("x-fleetgate-node")).toMatch(/^node-[01]$/);
    expect(response.headers.get("x-request-id")).toBeTruthy();
    expect(response.headers.get("x-fleetgate-route")).toBeTruthy();
  });

  it("streams chat tokens in order and ends with usage and [DONE]", async () => {
    const stream = await fleet.client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let usage: { completion_tokens: number } | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content;
      if (delta) deltas.push(delta);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.length).toBe(8);
    expect(usage?.completion_tokens).toBe(8);
  });

  it("relays the stream bytes unchanged, timings included", async () => {
    const response = await postJson(`${fleet.baseURL}/chat/completions`, {
      model: "tiny",
      messages,
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text();
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(text).toContain('"timings"');
    expect(text).toContain('"prompt_tokens_details"');
  });

  it("proxies text completions, streamed and not", async () => {
    const completion = await fleet.client.completions.create({
      model: "tiny",
      prompt: "Once upon",
      max_tokens: 5,
    });
    expect(completion.object).toBe("text_completion");
    expect(completion.usage?.completion_tokens).toBe(5);
    const stream = await fleet.client.completions.create({
      model: "tiny",
      prompt: "Once upon",
      max_tokens: 5,
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text.length).toBeGreaterThan(0);
  });

  it("proxies embeddings to a node that serves the model", async () => {
    const { data, response } = await fleet.client.embeddings
      .create({ model: "other", input: ["alpha", "beta"] })
      .withResponse();
    expect(data.data).toHaveLength(2);
    expect(data.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(response.headers.get("x-fleetgate-node")).toBe("node-2");
  });

  it("lists the union of models that healthy nodes serve", async () => {
    const models = await fleet.client.models.list();
    expect(models.data.map((model) => model.id).sort()).toEqual(["other", "tiny"]);
  });

  it("retrieves one model, and answers 404 model_not_found for one no healthy node serves", async () => {
    const model = await fleet.client.models.retrieve("tiny");
    expect(model.id).toBe("tiny");
    const missing = await fleet.client.models.retrieve("gpt-9").catch((err: unknown) => err);
    expect((missing as { status: number; code: string }).status).toBe(404);
    expect((missing as { status: number; code: string }).code).toBe("model_not_found");
  });

  it("spreads requests over the nodes that serve a model", async () => {
    const nodes = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { response } = await fleet.client.chat.completions
        .create({ model: "tiny", messages, max_tokens: 1 })
        .withResponse();
      nodes.add(response.headers.get("x-fleetgate-node") ?? "");
    }
    expect([...nodes].sort()).toEqual(["node-0", "node-1"]);
  });

  it("keeps a caller's request id", async () => {
    const response = await postJson(
      `${fleet.baseURL}/chat/completions`,
      { model: "tiny", messages, max_tokens: 1 },
      { headers: { "content-type": "application/json", "x-request-id": "trace-123" } },
    );
    expect(response.headers.get("x-request-id")).toBe("trace-123");
  });

  it("reports liveness and readiness", async () => {
    expect((await fetch(`${fleet.gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${fleet.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", healthy_nodes: 3 });
  });
});
