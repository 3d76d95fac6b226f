import { afterEach, describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/index.js";
import { adminFetch, eventually, postJson, startFleet, type TestFleet } from "../support/fleet.js";
import { freePort } from "../support/ports.js";

const KEY = "sk-quota-test-key-0123456789";
const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: "tiny",
  messages: [{ role: "user", content }],
  max_tokens: 8,
  ...extra,
});

let fleet: TestFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function limitedFleet(
  limits: Record<string, number>,
  extra: Omit<GatewayConfigInput, "nodes"> = {},
  tokensPerSecond = 2000,
) {
  fleet = await startFleet([{ model: "tiny", ttftMs: 5, tokensPerSecond }], {
    config: { ...extra, auth: { keys: [{ id: "k1", tenant: "acme", key: KEY, limits }] } },
  });
  const url = fleet.gateway.url;
  // On a loaded machine the first probe can come late; the quotas, not the node's health, are under test.
  expect(await eventually(async () => (await fetch(`${url}/readyz`)).ok, 5_000)).toBe(true);
  return fleet;
}

function send(f: TestFleet, body: unknown) {
  return postJson(`${f.baseURL}/chat/completions`, body, {
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
  });
}

async function ledgerRows(f: TestFleet, groupBy: string): Promise<Record<string, number | string>[]> {
  const response = await adminFetch(f.gateway.url, `/admin/usage?group_by=${groupBy}`);
  return ((await response.json()) as { data: Record<string, number | string>[] }).data;
}

/** Settlements go out in batches (every 100 ms): waits until the ledger holds `requests` calls. */
async function settled(f: TestFleet, requests: number): Promise<void> {
  const counted = async () => (await ledgerRows(f, "tenant"))[0]?.requests === requests;
  expect(await eventually(counted, 5_000)).toBe(true);
}

async function sseEvents(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .map((block) => block.replace(/^data: /, "").trim())
    .filter((data) => data.startsWith("{"))
    .map((data) => JSON.parse(data) as Record<string, unknown>);
}

describe("quotas", () => {
  it("puts OpenAI's rate-limit headers on every answer and refuses past the limit with 429 and Retry-After", async () => {
    const f = await limitedFleet({ requests_per_minute: 3, tokens_per_minute: 100_000 });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await send(f, chat(`hello ${i}`)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(answers.map((r) => r.headers.get("x-ratelimit-remaining-requests"))).toEqual(["2", "1", "0"]);
    expect(answers[0]?.headers.get("x-ratelimit-limit-requests")).toBe("3");
    expect(answers[0]?.headers.get("x-ratelimit-limit-tokens")).toBe("100000");
    expect(answers[0]?.headers.get("x-ratelimit-reset-requests")).toMatch(/^(\d+ms|\d+s|\d+m\d+s)$/);
    const refused = await send(f, chat("one too many"));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    const body = (await refused.json()) as { error: { code: string; param: string; message: string } };
    expect(body.error).toMatchObject({ code: "rate_limit_exceeded", param: "requests_per_minute" });
    expect(body.error.message).toContain("key 'k1'");
  });

  it("reserves prompt plus max_tokens, then settles to the exact usage", async () => {
    const f = await limitedFleet({ tokens_per_minute: 5_000 });
    const first = await send(f, chat("count me", { max_tokens: 2_000 }));
    const usage = ((await first.json()) as { usage: { total_tokens: number } }).usage;
    // While the call ran its whole reservation was held; once settled only what it used is charged.
    await settled(f, 1);
    const second = await send(f, chat("again", { max_tokens: 10 }));
    expect(second.status).toBe(200);
    const remaining = Number(second.headers.get("x-ratelimit-remaining-tokens"));
    expect(remaining).toBeLessThanOrEqual(5_000 - usage.total_tokens - 10);
    expect(remaining).toBeGreaterThan(5_000 - 2_000);
  });

  it("refuses a request that could never fit, without a Retry-After", async () => {
    const f = await limitedFleet({ tokens_per_minute: 500 });
    const refused = await send(f, chat("too big", { max_tokens: 1_000 }));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBeNull();
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/never fit/);
  });

  it("holds a concurrency slot until the stream ends, not until the handler returns", async () => {
    const f = await limitedFleet({ max_concurrent: 1 }, {}, 40);
    const streaming = await send(f, chat("a long answer", { stream: true, max_tokens: 20 }));
    expect(streaming.status).toBe(200);
    const refused = await send(f, chat("meanwhile"));
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { param: string } }).error.param).toBe("max_concurrent");
    await streaming.text();
    // The slot is released when the call settles, just after the last byte.
    expect(await eventually(async () => (await send(f, chat("after"))).status === 200, 5_000)).toBe(true);
  });

  it("asks the node for usage on every stream and strips the chunk the client did not ask for", async () => {
    const f = await limitedFleet({ tokens_per_minute: 100_000 });
    const plain = await sseEvents(await send(f, chat("stream me", { stream: true })));
    expect(plain.some((event) => "usage" in event && event.usage)).toBe(false);
    const asked = await sseEvents(
      await send(f, chat("stream me", { stream: true, stream_options: { include_usage: true } })),
    );
    const usageChunk = asked.find((event) => Array.isArray(event.choices) && event.choices.length === 0);
    expect(usageChunk?.usage).toMatchObject({ completion_tokens: 8 });
    await settled(f, 2);
    const rows = await ledgerRows(f, "key");
    // Both streams were settled from the node's exact count, the stripped one included.
    expect(rows).toEqual([
      expect.objectContaining({ key: "k1", requests: 2, completion_tokens: 16, estimated_tokens: 0 }),
    ]);
  });

  it("with quotas.on_store_error open, lets calls through when the store is down; closed answers 503", async () => {
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    for (const [mode, status] of [
      ["open", 200],
      ["closed", 503],
    ] as const) {
      const f = await limitedFleet(
        { requests_per_minute: 10 },
        { store: { redis_url: deadRedis }, quotas: { on_store_error: mode } },
      );
      const started = Date.now();
      const response = await send(f, chat("is the store there?"));
      expect(response.status).toBe(status);
      // Bounded: the store's timeouts end the wait, the call never hangs on a dead Redis.
      expect(Date.now() - started).toBeLessThan(8_000);
      if (mode === "closed") {
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("store_unavailable");
      }
      await f.close();
      fleet = undefined;
    }
  });

  it("shares a tenant's limit between its keys, and enforces the limits of a key issued through the admin API", async () => {
    fleet = await startFleet([{ model: "tiny", ttftMs: 5, tokensPerSecond: 2000 }], {
      config: {
        auth: { keys: [{ id: "k1", tenant: "acme", key: KEY }], required: true },
        quotas: { tenants: { acme: { requests_per_minute: 3 } } },
      },
    });
    const f = fleet;
    expect(await eventually(async () => (await fetch(`${f.gateway.url}/readyz`)).ok, 5_000)).toBe(true);
    const issued = await adminFetch(f.gateway.url, "/admin/keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant: "acme", limits: { requests_per_minute: 1 } }),
    });
    const secret = ((await issued.json()) as { key: string }).key;
    const as = (key: string) =>
      postJson(`${f.baseURL}/chat/completions`, chat("shared"), {
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      });
    expect((await as(secret)).status).toBe(200);
    const second = await as(secret);
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { message: string } }).error.message).toContain("key '");
    // The tenant's three: the issued key's one (its refused second charged nothing, all or nothing), then two more.
    expect((await as(KEY)).status).toBe(200);
    expect((await as(KEY)).status).toBe(200);
    const third = await as(KEY);
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { message: string } }).error.message).toContain("tenant 'acme'");
  });

  it("answers the ledger by tenant and model, and refuses a bad group_by naming the field", async () => {
    const f = await limitedFleet({ requests_per_minute: 100 });
    await send(f, chat("ledger me"));
    await settled(f, 1);
    expect(await ledgerRows(f, "model")).toEqual([expect.objectContaining({ model: "tiny", requests: 1 })]);
    const bad = await adminFetch(f.gateway.url, "/admin/usage?group_by=colour");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe("group_by");
  });

  it("counts a prompt cache hit in the ledger's own counters and not against the key's quota", async () => {
    const f = await limitedFleet({ requests_per_minute: 2 });
    const same = chat("the same question", { temperature: 0 });
    expect((await send(f, same)).headers.get("x-fleetgate-cache")).toBe("miss");
    await settled(f, 1);
    for (let i = 0; i < 3; i++) {
      const hit = await send(f, same);
      expect(hit.status).toBe(200);
      expect(hit.headers.get("x-fleetgate-cache")).toBe("hit");
      // Refunded once settled: hits never use up the two requests a minute.
      await settled(f, 2 + i);
    }
    const [row] = await ledgerRows(f, "key");
    expect(row).toMatchObject({ requests: 4, cache_hits: 3 });
    expect(Number(row?.cache_hit_tokens)).toBe(
      3 * (Number(row?.prompt_tokens) + Number(row?.completion_tokens)),
    );
  });
});
