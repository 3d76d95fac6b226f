import { describe, expect, it } from "vitest";
import type { ProxiedRequest } from "../../../src/gateway/features.js";
import { bodyAskingForUsage, withoutUsageChunk } from "../../../src/gateway/usage-request.js";
import { encodeData } from "../../../src/openai/index.js";

const chat = (body: Record<string, unknown>): ProxiedRequest =>
  ({
    kind: "chat",
    body: { model: "m", messages: [{ role: "user", content: "hi" }], ...body },
  }) as ProxiedRequest;
const raw = (body: unknown) => Buffer.from(`${JSON.stringify(body)}\n`);

describe("asking nodes for usage on every stream", () => {
  it("appends stream_options to a streamed body that has none, keeping every other field", () => {
    const body = {
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      cache_prompt: true,
    };
    const sent = bodyAskingForUsage(chat(body), raw(body));
    expect(JSON.parse(Buffer.from(sent as Uint8Array).toString())).toEqual({
      ...body,
      stream_options: { include_usage: true },
    });
  });

  it("merges into the client's stream_options, and leaves alone what needs nothing", () => {
    const body = { stream: true, stream_options: { include_usage: false, continuous_usage_stats: true } };
    const sent = JSON.parse(Buffer.from(bodyAskingForUsage(chat(body), raw(body)) as Uint8Array).toString());
    expect(sent.stream_options).toEqual({ include_usage: true, continuous_usage_stats: true });
    expect(bodyAskingForUsage(chat({ stream: false }), raw({}))).toBeUndefined();
    expect(
      bodyAskingForUsage(chat({ stream: true, stream_options: { include_usage: true } }), raw({})),
    ).toBeUndefined();
  });

  it("strips only the usage-only chunk, returning the bytes untouched when there is none", () => {
    const token = encodeData(JSON.stringify({ choices: [{ index: 0, delta: { content: "a" } }] }));
    const usage = encodeData(
      JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } }),
    );
    const done = "data: [DONE]\n\n";
    const events = [token, usage, done].map((text) => ({ data: text.slice(6, -2) }));
    expect(withoutUsageChunk(Buffer.from(token + usage + done), events)).toBe(token + done);
    const plain = Buffer.from(token);
    expect(withoutUsageChunk(plain, events.slice(0, 1))).toBe(plain);
  });
});
