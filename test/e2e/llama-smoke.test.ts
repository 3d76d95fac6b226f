/**
 * One real llama-server with the tiny model, spoken to directly (no gateway): proves the binary, the
 * generated GGUF and the harness work, and pins the wire shapes the fleet probes depend on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type LlamaNode, startLlamaNode, TINY_MODEL_ALIAS } from "./llama-harness.js";

const SLOTS = 2;
let node: LlamaNode;

beforeAll(async () => {
  node = await startLlamaNode({ slots: SLOTS, ctxSize: 2048 });
});
afterAll(async () => {
  await node?.stop();
});

const get = async (path: string) => fetch(`${node.url}${path}`);
const postChat = (body: object) =>
  fetch(`${node.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "Say hello to the fleet." }], ...body }),
  });

const timingsSchema = z.object({
  predicted_n: z.number(),
  predicted_per_second: z.number(),
  prompt_n: z.number(),
});
const usageSchema = z.object({
  prompt_tokens: z.number().int().positive(),
  completion_tokens: z.number().int(),
});

describe("llama-server with the tiny model", () => {
  it("reports healthy", async () => {
    const res = await get("/health");
    expect(res.status).toBe(200);
    expect(z.object({ status: z.literal("ok") }).parse(await res.json())).toEqual({ status: "ok" });
  });

  it("describes itself on /props", async () => {
    const props = z
      .object({ total_slots: z.number(), model_alias: z.string(), chat_template: z.string() })
      .parse(await (await get("/props")).json());
    expect(props.total_slots).toBe(SLOTS);
    expect(props.model_alias).toBe(TINY_MODEL_ALIAS);
    expect(props.chat_template).toContain("<|im_start|>");
  });

  it("lists its slots on /slots", async () => {
    const slots = z
      .array(z.object({ id: z.number(), n_ctx: z.number().positive(), is_processing: z.boolean() }))
      .parse(await (await get("/slots")).json());
    expect(slots.map((s) => s.id)).toEqual([0, 1]);
    expect(slots.every((s) => !s.is_processing)).toBe(true);
  });

  it("answers a chat completion", async () => {
    const res = await postChat({ max_tokens: 32, temperature: 0 });
    expect(res.status).toBe(200);
    const body = z
      .object({
        object: z.literal("chat.completion"),
        model: z.string(),
        choices: z.array(
          z.object({
            finish_reason: z.enum(["stop", "length"]),
            message: z.object({ role: z.literal("assistant"), content: z.string() }),
          }),
        ),
        usage: usageSchema,
        timings: timingsSchema,
      })
      .parse(await res.json());
    expect(body.model).toBe(TINY_MODEL_ALIAS);
    expect(body.choices).toHaveLength(1);
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(32);
    process.stderr.write(
      `[llama-smoke] non-stream: ${body.timings.predicted_n} tokens at ${body.timings.predicted_per_second.toFixed(0)} tokens/s\n`,
    );
  });

  it("streams a chat completion as SSE ending in [DONE], with usage when asked", async () => {
    const res = await postChat({ max_tokens: 16, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = (await res.text())
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => l.slice(6));
    expect(events.at(-1)).toBe("[DONE]");
    const chunkSchema = z.object({
      object: z.literal("chat.completion.chunk"),
      choices: z.array(
        z.object({
          delta: z.object({ role: z.string().optional(), content: z.string().nullable().optional() }),
          finish_reason: z.string().nullable(),
        }),
      ),
      usage: usageSchema.optional(),
      timings: timingsSchema.optional(),
    });
    const chunks = events.slice(0, -1).map((e) => chunkSchema.parse(JSON.parse(e)));
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text.length).toBeGreaterThan(0);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === "length")).toBe(true);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBe(16);
    process.stderr.write(
      `[llama-smoke] stream: ${last?.timings?.predicted_n} tokens at ${last?.timings?.predicted_per_second.toFixed(0)} tokens/s\n`,
    );
  });

  it("exposes Prometheus metrics that count the work done", async () => {
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    const text = await res.text();
    const value = (name: string) =>
      Number(new RegExp(`^llamacpp:${name} ([0-9.e+-]+)$`, "m").exec(text)?.[1]);
    expect(value("tokens_predicted_total")).toBeGreaterThanOrEqual(16);
    expect(value("prompt_tokens_total")).toBeGreaterThan(0);
    expect(value("requests_processing")).toBe(0);
    expect(value("requests_deferred")).toBe(0);
  });

  it("restarts on the same port and stops cleanly", async () => {
    const before = node.pid;
    await node.restart();
    expect(node.pid).not.toBe(before);
    expect((await get("/health")).status).toBe(200);
    const killed = await node.kill();
    expect(killed?.signal).toBe("SIGKILL");
    expect(node.running).toBe(false);
    await expect(get("/health")).rejects.toThrow();
    await node.restart();
    const exit = await node.stop();
    expect(exit?.code === 0 || exit?.signal === "SIGTERM").toBe(true);
    expect(node.running).toBe(false);
  });
});
