import { describe, expect, it } from "vitest";
import { upstreamErrorFrom } from "../../../src/gateway/upstream-error.js";
import { errorEnvelope } from "../../../src/openai/index.js";

/** The only codes a node's error can become, whatever the node says. */
const NODE_CODES = [
  "context_length_exceeded",
  "upstream_rejected",
  "upstream_not_supported",
  "upstream_unavailable",
  "upstream_error",
  "upstream_auth_failed",
];

const llama = (status: number, type: string, message: string, extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ error: { code: status, message, type, ...extra } }));

const mapped = (status: number, body: Buffer | string) =>
  errorEnvelope(upstreamErrorFrom("node-1", status, typeof body === "string" ? Buffer.from(body) : body))
    .error;

describe("a node's error answer", () => {
  it("maps exceed_context_size_error to context_length_exceeded, keeping message, n_prompt_tokens and n_ctx", () => {
    const message = "request (700 tokens) exceeds the available context size (256 tokens), try increasing it";
    const error = mapped(
      400,
      llama(400, "exceed_context_size_error", message, { n_prompt_tokens: 700, n_ctx: 256 }),
    );
    expect(error).toEqual({
      message,
      type: "invalid_request_error",
      code: "context_length_exceeded",
      param: null,
      n_prompt_tokens: 700,
      n_ctx: 256,
    });
    // The envelope's own fields come first, as the OpenAI SDKs print them.
    expect(Object.keys(error).slice(0, 4)).toEqual(["message", "type", "code", "param"]);
  });

  it.each([
    [400, "invalid_request_error", "upstream_rejected", 400, "invalid_request_error"],
    [404, "not_found_error", "upstream_rejected", 404, "not_found_error"],
    [429, "rate_limit_error", "upstream_rejected", 429, "rate_limit_error"],
    [500, "server_error", "upstream_error", 502, "upstream_error"],
    // What the deployment cannot do is final: a 4xx, so neither failover nor SDKs retry it.
    [501, "not_supported_error", "upstream_not_supported", 400, "invalid_request_error"],
    [503, "unavailable_error", "upstream_unavailable", 503, "service_unavailable_error"],
  ])("maps HTTP %i %s to %s (HTTP %i, %s)", (status, llamaType, code, clientStatus, type) => {
    const err = upstreamErrorFrom("node-1", status, llama(status, llamaType, "the node's words"));
    expect(err).toMatchObject({ code, status: clientStatus, type, message: "the node's words" });
  });

  it.each([
    [401, "authentication_error"],
    [403, "permission_error"],
  ])(
    "maps a node's %i %s to 502 upstream_auth_failed: the gateway's node key is the operator's",
    (status, llamaType) => {
      const err = upstreamErrorFrom("node-1", status, llama(status, llamaType, "Invalid API Key"));
      expect(err).toMatchObject({ code: "upstream_auth_failed", status: 502, type: "upstream_error" });
      expect(err.message).toContain("node-1");
      expect(err.message).toContain("Invalid API Key");
    },
  );

  it("never passes an unknown node type through as the code", () => {
    for (const status of [400, 409, 422, 500, 502, 504]) {
      const err = upstreamErrorFrom("node-1", status, llama(status, "brand_new_error", "new"));
      expect(NODE_CODES).toContain(err.code);
      expect(err.code).not.toBe("brand_new_error");
    }
    expect(upstreamErrorFrom("n", 409, llama(409, "brand_new_error", "x"))).toMatchObject({
      code: "upstream_rejected",
      status: 409,
      type: "invalid_request_error",
    });
    expect(upstreamErrorFrom("n", 504, llama(504, "brand_new_error", "x"))).toMatchObject({
      code: "upstream_error",
      status: 502,
    });
  });

  it("lets the status family win over a type that contradicts it", () => {
    // A 5xx is the node's fault and may fail over; a 4xx is final. The type cannot move one into the other.
    expect(upstreamErrorFrom("n", 500, llama(500, "exceed_context_size_error", "x")).code).toBe(
      "upstream_error",
    );
    expect(upstreamErrorFrom("n", 400, llama(400, "unavailable_error", "x")).code).toBe("upstream_rejected");
    expect(upstreamErrorFrom("n", 500, llama(500, "unavailable_error", "x")).code).toBe(
      "upstream_unavailable",
    );
  });

  it("names the node and shows the start of a body that is not JSON", () => {
    const err = upstreamErrorFrom("node-1", 502, Buffer.from(`<html>Bad Gateway</html>${"x".repeat(2000)}`));
    expect(err).toMatchObject({ code: "upstream_error", status: 502, details: undefined });
    expect(err.message).toMatch(/^Node 'node-1' answered HTTP 502: <html>Bad Gateway<\/html>x+$/);
    expect(err.message.length).toBeLessThan(600);
  });

  it("handles an empty body and JSON of another shape", () => {
    expect(upstreamErrorFrom("node-1", 400, Buffer.alloc(0))).toMatchObject({
      code: "upstream_rejected",
      message: "Node 'node-1' answered HTTP 400",
    });
    const other = upstreamErrorFrom("node-1", 404, Buffer.from('{"detail":"Not Found"}'));
    expect(other).toMatchObject({ code: "upstream_rejected", status: 404, type: "not_found_error" });
    expect(other.message).toBe(`Node 'node-1' answered HTTP 404: {"detail":"Not Found"}`);
    expect(upstreamErrorFrom("n", 400, Buffer.from('{"error":{"message":42}}')).code).toBe(
      "upstream_rejected",
    );
  });

  it("keeps only a few short scalar fields, and never lets them replace the envelope's own", () => {
    const body = llama(400, "invalid_request_error", "bad", {
      param: "messages",
      nested: { a: 1 },
      list: [1, 2],
      nothing: null,
      flag: true,
      long: "y".repeat(2000),
      "bad key": 1,
      __proto__x: 1,
      toString: "shadow",
      ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, i])),
    });
    const error = mapped(400, body);
    expect(error).toMatchObject({ message: "bad", code: "upstream_rejected", param: null, flag: true });
    expect(error).not.toHaveProperty("nested");
    expect(error).not.toHaveProperty("list");
    expect(error).not.toHaveProperty("nothing");
    expect(error).not.toHaveProperty("bad key");
    expect(error).not.toHaveProperty("__proto__x");
    expect(Object.hasOwn(error, "toString")).toBe(false);
    expect(String(error.long).length).toBe(500);
    expect(Object.keys(error).length).toBeLessThanOrEqual(4 + 16);
  });

  it("passes the node's Retry-After on, in seconds or as an HTTP date", () => {
    const busy = llama(503, "unavailable_error", "no slot available");
    expect(upstreamErrorFrom("node-1", 503, busy, "7").retryAfterSeconds).toBe(7);
    const at = new Date(Date.now() + 30_000).toUTCString();
    const fromDate = upstreamErrorFrom("node-1", 429, llama(429, "rate_limit_error", "slow down"), at);
    expect(fromDate.status).toBe(429);
    expect(fromDate.retryAfterSeconds).toBeGreaterThanOrEqual(28);
    expect(fromDate.retryAfterSeconds).toBeLessThanOrEqual(30);
    expect(upstreamErrorFrom("node-1", 503, busy, "soon").retryAfterSeconds).toBeUndefined();
    expect(upstreamErrorFrom("node-1", 503, busy).retryAfterSeconds).toBeUndefined();
  });
});
