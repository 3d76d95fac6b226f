/**
 * The simulated node (src/sim) against a real llama-server: the same requests to both, compared by
 * structure (status, the headers clients act on, JSON keys and value types, stream chunk order, error
 * envelopes), never by values. Where the sim leaves a key out, `MAY_OMIT` says why.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseDecoder } from "../../src/openai/sse.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { type LlamaNode, startLlamaNode, TINY_MODEL_ALIAS } from "./llama-harness.js";
import { chunkKinds, shapeDiff } from "./shape.js";

const KEY = "conformance-key";
const N_CTX = 512;
const auth = { authorization: `Bearer ${KEY}` };

let real: LlamaNode;
let sim: SimNode;

beforeAll(async () => {
  [real, sim] = await Promise.all([
    startLlamaNode({ ctxSize: N_CTX, apiKey: KEY }),
    startSimNode({
      model: TINY_MODEL_ALIAS,
      slots: 1,
      nCtx: N_CTX,
      apiKey: KEY,
      embeddings: false,
      // The tiny model has no fill-in-the-middle tokens: /infill is a 501 on both.
      infill: false,
      ttftMs: 1,
      tokensPerSecond: 1000,
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([real?.stop(), sim?.close()]);
});

/** Keys a real server sends that the sim leaves out, and why. */
const MAY_OMIT = {
  // Sampler settings: the sim does not sample, so it reports only the ones a gateway might read.
  props: [".default_generation_settings.params.*"],
  slots: ["[].params.*"],
} as const;

interface Exchange {
  status: number;
  contentType: string | null;
  headers: Headers;
  json?: unknown;
  events?: unknown[];
  /** The `event:` name of each event (undefined for plain `data:` ones). */
  names?: (string | undefined)[];
  done?: boolean;
}

type Request = { method?: string; path: string; body?: unknown; headers?: Record<string, string> };

async function send(base: string, req: Request): Promise<Exchange> {
  const res = await fetch(`${base}${req.path}`, {
    method: req.method ?? (req.body === undefined ? "GET" : "POST"),
    headers: { ...auth, "content-type": "application/json", ...req.headers },
    body:
      typeof req.body === "string" ? req.body : req.body === undefined ? undefined : JSON.stringify(req.body),
  });
  const contentType = res.headers.get("content-type");
  const text = await res.text();
  const base_ = { status: res.status, contentType, headers: res.headers };
  if (contentType?.includes("text/event-stream")) {
    const decoder = new SseDecoder();
    const all = [...decoder.push(text), ...decoder.flush()].filter((e) => e.data !== "[DONE]");
    const done = text.trimEnd().endsWith("data: [DONE]");
    return { ...base_, done, events: all.map((e) => JSON.parse(e.data)), names: all.map((e) => e.event) };
  }
  return { ...base_, json: contentType?.includes("json") ? JSON.parse(text) : text };
}

const both = (req: Request) => Promise.all([send(real.url, req), send(sim.url, req)]);

/** Status, media type and body structure must match. */
function expectSame(r: Exchange, s: Exchange, mayOmit: readonly string[] = []): void {
  expect(s.status, "status").toBe(r.status);
  expect(s.contentType?.split(";")[0], "content-type").toBe(r.contentType?.split(";")[0]);
  if (r.json !== undefined && typeof r.json === "object")
    expect(shapeDiff(r.json, s.json, { mayOmit }).join("\n")).toBe("");
}

const chat = (extra: object = {}) => ({
  path: "/v1/chat/completions",
  body: { messages: [{ role: "user", content: "Describe the fleet." }], max_tokens: 6, ...extra },
});

describe("operational endpoints", () => {
  it("/health", async () => expectSame(...(await both({ path: "/health" }))));
  it("/v1/models", async () => expectSame(...(await both({ path: "/v1/models" }))));
  it("/props", async () => expectSame(...(await both({ path: "/props" })), MAY_OMIT.props));
  it("/slots, idle", async () => expectSame(...(await both({ path: "/slots" })), MAY_OMIT.slots));

  it("/slots, while a slot generates", async () => {
    const [r, s] = await Promise.all([real.url, sim.url].map((base) => slotsWhileBusy(base)));
    expectSame(r as Exchange, s as Exchange, MAY_OMIT.slots);
  });

  it("/metrics: Prometheus text with the same llamacpp: series", async () => {
    const [r, s] = await both({ path: "/metrics" });
    expectSame(r, s);
    const series = (e: Exchange) => new Set(String(e.json).match(/^llamacpp:[a-z_]+/gm));
    // Speculative decoding counters: the sim never drafts.
    const missing = [...series(r)].filter((name) => !series(s).has(name) && !name.includes(":spec_"));
    expect(missing).toEqual([]);
  });
});

describe("completions", () => {
  it("chat, not streamed", async () => expectSame(...(await both(chat()))));

  it("chat, streamed with usage: role, content, finish, usage, [DONE]", async () => {
    const [r, s] = await both(chat({ stream: true, stream_options: { include_usage: true } }));
    expectSameStream(r, s);
    expect(chunkKinds(r.events ?? [])).toEqual(["role", "content+", "finish", "usage"]);
  });

  it("chat, streamed without usage: timings ride on the finish chunk", async () => {
    const [r, s] = await both(chat({ stream: true }));
    expectSameStream(r, s);
    expect(chunkKinds(r.events ?? [])).toEqual(["role", "content+", "finish"]);
  });

  it("text completion, streamed and not", async () => {
    const text = { path: "/v1/completions", body: { prompt: "The fleet", max_tokens: 4 } };
    expectSame(...(await both(text)));
    const [r, s] = await both({ ...text, body: { ...text.body, stream: true } });
    expectSameStream(r, s);
  });
});

describe("the other generating routes", () => {
  const routes: [string, Request][] = [
    [
      "/v1/responses",
      { path: "/v1/responses", body: { input: "Describe the fleet.", max_output_tokens: 6 } },
    ],
    [
      "/v1/messages",
      {
        path: "/v1/messages",
        body: { max_tokens: 6, messages: [{ role: "user", content: "Describe the fleet." }] },
      },
    ],
  ];

  it.each(routes)("%s, not streamed", async (_name, req) => {
    const [r, s] = await both(req);
    expect(r.status).toBe(200);
    expectSame(r, s);
  });

  it("/infill on a model without fill-in-the-middle tokens: the same 501, streamed or not", async () => {
    for (const stream of [false, true]) {
      const [r, s] = await both({
        path: "/infill",
        body: { input_prefix: "def f():", input_suffix: "\n", stream },
      });
      expect(r.status).toBe(501);
      expectSame(r, s);
      expect(s.json).toEqual(r.json);
    }
  });

  it.each(routes)(
    "%s, streamed: the same events in the same order, each of the same shape",
    async (_name, req) => {
      const [r, s] = await both({ ...req, body: { ...(req.body as object), stream: true } });
      expectSame(r, s);
      expect(s.done).toBe(r.done);
      const runs = (e: Exchange) => (e.names ?? []).filter((name, i, all) => i === 0 || name !== all[i - 1]);
      expect(runs(s)).toEqual(runs(r));
      const byName = (e: Exchange) => {
        const map = new Map<string, unknown>();
        (e.events ?? []).forEach((event, i) => {
          const name = e.names?.[i] ?? (i === (e.events?.length ?? 0) - 1 ? "last" : "data");
          map.set(name, event);
        });
        return map;
      };
      const [rm, sm] = [byName(r), byName(s)];
      for (const [name, event] of rm) {
        expect(shapeDiff(event, sm.get(name)).join("\n"), name).toBe("");
      }
    },
  );
});

describe("error envelopes", () => {
  const cases: [string, Request][] = [
    ["invalid JSON", { path: "/v1/chat/completions", body: "{bad" }],
    ["messages not an array", { path: "/v1/chat/completions", body: { messages: "hi" } }],
    ["messages missing", { path: "/v1/chat/completions", body: { model: "x" } }],
    ["max_tokens of the wrong type", chat({ max_tokens: "six" })],
    [
      "prompt longer than the context",
      chat({ messages: [{ role: "user", content: "word ".repeat(N_CTX * 2) }] }),
    ],
    ["unknown route", { path: "/v1/nothing-here" }],
    ["embeddings on a node started without them", { path: "/v1/embeddings", body: { input: "x" } }],
    ["no API key", { ...chat(), headers: { authorization: "" } }],
    ["wrong API key", { path: "/slots", headers: { authorization: "Bearer wrong" } }],
  ];
  it.each(cases)("%s", async (_name, req) => {
    const [r, s] = await both(req);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expectSame(r, s);
    const type = (e: Exchange) => (e.json as { error?: { type?: unknown } }).error?.type;
    expect(type(s)).toBe(type(r));
  });
});

function expectSameStream(r: Exchange, s: Exchange): void {
  expectSame(r, s);
  expect(s.headers.get("x-accel-buffering")).toBe(r.headers.get("x-accel-buffering"));
  expect([r.done, s.done]).toEqual([true, true]);
  const [rk, sk] = [chunkKinds(r.events ?? []), chunkKinds(s.events ?? [])];
  expect(sk).toEqual(rk);
  // Chunk by chunk, each kind against the real chunk of the same kind.
  const byKind = (events: unknown[]) => {
    const map = new Map<string, unknown>();
    for (const event of events) map.set(chunkKinds([event])[0] as string, event);
    return map;
  };
  const [rm, sm] = [byKind(r.events ?? []), byKind(s.events ?? [])];
  for (const [kind, chunk] of rm) expect(shapeDiff(chunk, sm.get(kind)).join("\n"), kind).toBe("");
}

/** /slots as seen while a long streamed generation holds the only slot. */
async function slotsWhileBusy(base: string): Promise<Exchange> {
  const abort = new AbortController();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ ...chat().body, max_tokens: 400, ignore_eos: true, stream: true }),
    signal: abort.signal,
  });
  const reader = res.body?.getReader();
  await reader?.read();
  try {
    return await send(base, { path: "/slots" });
  } finally {
    abort.abort();
    await reader?.cancel().catch(() => undefined);
  }
}
