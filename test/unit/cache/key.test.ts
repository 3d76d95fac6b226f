import { describe, expect, it } from "vitest";
import { cacheKey, canonicalJson } from "../../../src/cache/index.js";

const base = {
  tenant: "acme",
  kind: "chat" as const,
  model: "tiny",
  body: { model: "tiny", messages: [{ role: "user", content: "hi" }], temperature: 0 },
};

describe("the cache key", () => {
  it("is the same whatever the order of fields, and ignores how the answer is delivered", () => {
    const reordered = { temperature: 0, messages: [{ content: "hi", role: "user" }], model: "tiny" };
    expect(cacheKey({ ...base, body: reordered })).toBe(cacheKey(base));
    const delivered = { ...base.body, stream: true, stream_options: { include_usage: true }, user: "u-1" };
    expect(cacheKey({ ...base, body: delivered })).toBe(cacheKey(base));
  });

  it("changes with the tenant, the endpoint, the resolved model and every output-changing field", () => {
    const key = cacheKey(base);
    expect(cacheKey({ ...base, tenant: "other" })).not.toBe(key);
    expect(cacheKey({ ...base, kind: "completions" })).not.toBe(key);
    // The call's model (after alias resolution) counts, not the body's spelling.
    expect(cacheKey({ ...base, model: "tiny-v2" })).not.toBe(key);
    expect(cacheKey({ ...base, body: { ...base.body, model: "alias" } })).toBe(key);
    const changes: Record<string, unknown>[] = [
      { temperature: 0.5 },
      { seed: 1 },
      { stop: ["\n"] },
      { max_tokens: 5 },
      { top_p: 0.9 },
      { tools: [{ type: "function", function: { name: "f" } }] },
      { tool_choice: "none" },
      { response_format: { type: "json_object" } },
      { logit_bias: { "42": -100 } },
      { n: 2 },
      { top_k: 10 },
      { grammar: 'root ::= "a"' },
      { messages: [{ role: "user", content: "hi!" }] },
    ];
    const keys = changes.map((change) => cacheKey({ ...base, body: { ...base.body, ...change } }));
    expect(new Set([key, ...keys]).size).toBe(changes.length + 1);
  });

  it("carries the tenant as the Redis hash tag", () => {
    expect(cacheKey(base)).toMatch(/^cache:\{acme\}:[A-Za-z0-9_-]{43}$/);
  });

  it("gives no key for a body nested deeper than any real request", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(cacheKey({ ...base, body: { ...base.body, deep } })).toBeUndefined();
  });

  it("writes canonical JSON with sorted keys at every depth", () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null, e: undefined })).toBe(
      '{"a":null,"b":[{"c":2,"d":1}]}',
    );
  });
});
