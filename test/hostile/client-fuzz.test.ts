import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch, startFleet, TEST_ADMIN_TOKEN, type TestFleet } from "../support/fleet.js";

/**
 * Issue 15: generated request bodies of any shape and type, and near-valid ones with a wrong field,
 * against every POST route. The gateway may refuse them, but never with a 5xx, never with a body
 * outside the OpenAI error envelope, and it never falls over. The sims behind it answer as
 * llama-server does, so a 5xx could only be the gateway's own (or a node fault it failed to
 * classify as the client's): none is allowed at all.
 */
const RUNS = 300;

type Route = "chat" | "completions" | "embeddings" | "keys";
const PATHS: Record<Route, string> = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embeddings: "/v1/embeddings",
  keys: "/admin/keys",
};

const value = fc.jsonValue({ maxDepth: 3 });
// Any code point, lone surrogates included (JSON carries them as escapes).
const text = fc.string({ unit: "binary", maxLength: 40 });
const tokens = fc.array(fc.integer({ min: -5, max: 70_000 }), { minLength: 0, maxLength: 8 });
const part = fc.record(
  { type: fc.constantFrom("text", "image_url", "input_audio", "refusal", ""), text: fc.oneof(text, value) },
  { requiredKeys: ["type"] },
);
const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom("system", "developer", "user", "assistant", "tool", "function"), value),
    content: fc.oneof(text, fc.array(part, { maxLength: 3 }), value),
    name: fc.oneof(text, value),
    tool_calls: value,
  },
  { requiredKeys: ["role"] },
);
const number = fc.oneof(fc.integer({ min: -3, max: 5000 }), fc.double({ noNaN: true }), value);

/** Every field a route knows, each with values of the right type and of any type. */
const fields: Record<Route, Record<string, fc.Arbitrary<unknown>>> = {
  chat: {
    model: fc.oneof(fc.constant("tiny"), text, value),
    messages: fc.oneof(fc.array(message, { maxLength: 4 }), value),
    stream: fc.oneof(fc.boolean(), value),
    stream_options: fc.oneof(fc.record({ include_usage: fc.oneof(fc.boolean(), value) }), value),
    max_tokens: number,
    max_completion_tokens: number,
    temperature: number,
    top_p: number,
    n: number,
    seed: number,
    stop: fc.oneof(text, fc.array(text, { maxLength: 20 }), value),
    presence_penalty: number,
    user: fc.oneof(text, value),
    ignore_eos: fc.oneof(fc.boolean(), value),
    tools: value,
    response_format: value,
  },
  completions: {
    model: fc.oneof(fc.constant("tiny"), text, value),
    prompt: fc.oneof(text, fc.array(text, { maxLength: 3 }), tokens, value),
    stream: fc.oneof(fc.boolean(), value),
    max_tokens: number,
    n_predict: number,
    temperature: number,
    stop: fc.oneof(text, value),
    cache_prompt: fc.oneof(fc.boolean(), value),
  },
  embeddings: {
    model: fc.oneof(fc.constant("tiny"), text, value),
    input: fc.oneof(
      text,
      fc.array(text, { maxLength: 3 }),
      tokens,
      fc.array(tokens, { maxLength: 3 }),
      value,
    ),
    encoding_format: fc.oneof(fc.constantFrom("float", "base64"), value),
    dimensions: number,
  },
  keys: {
    tenant: fc.oneof(fc.constantFrom("fuzz", "a.b-c_d"), text, value),
    models: fc.oneof(fc.array(fc.oneof(fc.constant("tiny"), text), { maxLength: 3 }), value),
    regions: fc.oneof(fc.array(fc.constantFrom("fra", "ams", "atlantis", "FRA"), { maxLength: 3 }), value),
    limits: fc.oneof(
      fc.dictionary(fc.constantFrom("requests_per_minute", "concurrency", "x"), number),
      value,
    ),
  },
};

const VALID: Record<Route, Record<string, unknown>> = {
  chat: { model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 8 },
  completions: { model: "tiny", prompt: "hi", max_tokens: 8 },
  embeddings: { model: "tiny", input: "hi" },
  keys: { tenant: "fuzz" },
};

/** A valid body with a field or two set to something else (of the right type or any), or left out. */
function nearValid(route: Route): fc.Arbitrary<Record<string, unknown>> {
  const known = fields[route];
  const names = Object.keys(known);
  const changes = fc.subarray(names, { minLength: 1, maxLength: 2 });
  return fc
    .tuple(changes, fc.option(fc.constantFrom(...names), { nil: undefined }))
    .chain(([changed, dropped]) =>
      fc
        .record(Object.fromEntries(changed.map((name) => [name, known[name] as fc.Arbitrary<unknown>])))
        .map((set) => {
          const body: Record<string, unknown> = { ...VALID[route], ...set };
          if (dropped !== undefined) delete body[dropped];
          return body;
        }),
    );
}

function deeplyNested([body, depth]: [Record<string, unknown>, number]): string {
  return `{"deep":${"[".repeat(depth)}${"]".repeat(depth)},${JSON.stringify(body).slice(1)}`;
}

const body = (route: Route): fc.Arbitrary<string | Uint8Array> =>
  fc.oneof(
    { weight: 4, arbitrary: nearValid(route).map((json) => JSON.stringify(json)) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
    // Nested deeper than a recursive walk over the body could follow.
    {
      weight: 1,
      arbitrary: fc.tuple(nearValid(route), fc.integer({ min: 1, max: 200_000 })).map(deeplyNested),
    },
    // Not JSON at all, JSON cut short, or not even UTF-8.
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.string({ unit: "binary", maxLength: 60 }),
        fc.json().map((json) => json.slice(0, -1)),
        fc.uint8Array({ maxLength: 60 }),
      ),
    },
  );

const request = fc
  .constantFrom<Route>("chat", "completions", "embeddings", "keys")
  .chain((route) => fc.record({ route: fc.constant(route), body: body(route) }));

/** What every refusal must look like: the OpenAI error envelope, with a message and a stable code. */
function expectEnvelope(status: number, answer: string): void {
  const parsed = JSON.parse(answer) as { error?: Record<string, unknown> };
  expect(parsed, `${status}: ${answer}`).toEqual({
    error: expect.objectContaining({
      message: expect.any(String),
      type: expect.any(String),
      code: expect.any(String),
      param: expect.toSatisfy((param) => param === null || typeof param === "string"),
    }),
  });
}

describe("hostile clients: request-body fuzzing", () => {
  let fleet: TestFleet;
  let apiKey: string;
  beforeAll(async () => {
    fleet = await startFleet(
      [
        { model: "tiny", tokensPerSecond: 20_000, nCtx: 512 },
        { model: "tiny", tokensPerSecond: 20_000, nCtx: 512 },
      ],
      { config: { auth: { required: true } } },
    );
    const issued = await adminFetch(fleet.gateway.url, "/admin/keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant: "fuzz" }),
    });
    apiKey = ((await issued.json()) as { key: string }).key;
  });
  afterAll(() => fleet.close());

  it(`answers ${RUNS} generated bodies on every POST route without a 5xx, a crash or a stray body`, async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ route, body }) => {
        const token = route === "keys" ? TEST_ADMIN_TOKEN : apiKey;
        const response = await fetch(`${fleet.gateway.url}${PATHS[route]}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body,
        });
        const answer = await response.text();
        const shown = typeof body === "string" ? body : Buffer.from(body).toString("hex");
        const asked = `${route} ${shown.slice(0, 500)}`;
        expect(response.status, `${asked} → ${answer}`).toBeLessThan(500);
        if (response.status === 200 || response.status === 201) {
          // A stream that broke would carry its error as an event instead of a status.
          expect(answer, asked).not.toMatch(/^data: \{"error"/m);
        } else {
          expectEnvelope(response.status, answer);
        }
      }),
      { numRuns: RUNS },
    );
    expect((await fetch(`${fleet.gateway.url}/healthz`)).status).toBe(200);
  }, 60_000);
});
