import { describe, expect, it } from "vitest";
import { type CacheDecision, PromptCache, type PromptCacheSettings } from "../../../src/cache/index.js";
import { MemoryStore, type StateStore } from "../../../src/store/index.js";

const SETTINGS: PromptCacheSettings = {
  mode: "deterministic",
  ttlMs: 60_000,
  maxEntryBytes: 64 * 1024,
  memoryBytes: 1024 * 1024,
  singleFlightWaitMs: 2000,
  storeRetryMs: 10_000,
};

function counting() {
  const counts = { fill: 0, storeFallback: 0 };
  return { counts, events: { fill: () => counts.fill++, storeFallback: () => counts.storeFallback++ } };
}

const signal = new AbortController().signal;

function lookup(content: string, extra: Record<string, unknown> = {}) {
  return {
    tenant: "acme",
    kind: "chat" as const,
    model: "tiny",
    body: { model: "tiny", messages: [{ role: "user", content }], temperature: 0, ...extra },
    cacheControl: undefined,
    signal,
  };
}

function answer(content: string) {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "tiny",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  };
}

/** Answers a miss as a node would and settles it complete. */
async function fillWith(decision: CacheDecision, content: string): Promise<void> {
  if (decision.kind !== "miss" && decision.kind !== "bypass") throw new Error(`not a miss: ${decision.kind}`);
  decision.fill?.recorder.whole(answer(content));
  await decision.fill?.finish(true);
}

/** A shared store (as Redis is) whose every operation fails. */
function brokenStore(): { store: StateStore; calls: () => number } {
  let calls = 0;
  const fail = async () => {
    calls += 1;
    throw new Error("connection refused");
  };
  const store: StateStore = Object.assign(Object.create(new MemoryStore()) as StateStore, {
    kind: "redis" as const,
    get: fail,
    set: fail,
    setIfAbsent: fail,
    delete: fail,
  });
  return { store, calls: () => calls };
}

describe("the prompt cache", () => {
  it("keeps memory within its byte bound under 10,000 distinct entries, the newest kept", async () => {
    const { counts, events } = counting();
    const cache = new PromptCache(new MemoryStore(), SETTINGS, events);
    const filler = "x".repeat(400);
    for (let i = 0; i < 10_000; i++) {
      await fillWith(await cache.decide(lookup(`question ${i}`)), `${filler} ${i}`);
      expect(cache.memoryBytes).toBeLessThanOrEqual(SETTINGS.memoryBytes);
    }
    expect(counts.fill).toBe(10_000);
    expect(cache.memoryBytes).toBeGreaterThan(SETTINGS.memoryBytes * 0.9);
    expect((await cache.decide(lookup("question 9999"))).kind).toBe("hit");
    expect((await cache.decide(lookup("question 0"))).kind).toBe("miss");
  });

  it("does not keep an entry over the size cap", async () => {
    const cache = new PromptCache(new MemoryStore(), { ...SETTINGS, maxEntryBytes: 2048 }, counting().events);
    await fillWith(await cache.decide(lookup("big")), "y".repeat(4096));
    expect((await cache.decide(lookup("big"))).kind).toBe("miss");
  });

  it("serves a hit only while its age is within the TTL and the request's max-age", async () => {
    let now = 1_000_000;
    const cache = new PromptCache(new MemoryStore(), SETTINGS, counting().events, () => now);
    await fillWith(await cache.decide(lookup("aging")), "old answer");
    now += 30_000;
    const hit = await cache.decide(lookup("aging"));
    expect(hit).toMatchObject({ kind: "hit", ageS: 30 });
    expect((await cache.decide({ ...lookup("aging"), cacheControl: "max-age=10" })).kind).toBe("miss");
  });

  it("lets one of several identical misses go to the fleet; the others get its answer", async () => {
    const cache = new PromptCache(new MemoryStore(), SETTINGS, counting().events);
    const first = await cache.decide(lookup("flight"));
    expect(first.kind).toBe("miss");
    const waiting = Array.from({ length: 5 }, () => cache.decide(lookup("flight")));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await fillWith(first, "the one answer");
    const decisions = await Promise.all(waiting);
    expect(decisions.map((decision) => decision.kind)).toEqual(Array(5).fill("hit"));
  });

  it("lets the waiters go on to the fleet when the leader stores nothing, or takes too long", async () => {
    const cache = new PromptCache(
      new MemoryStore(),
      { ...SETTINGS, singleFlightWaitMs: 100 },
      counting().events,
    );
    const failed = await cache.decide(lookup("failing"));
    const waiter = cache.decide(lookup("failing"));
    if (failed.kind !== "miss") throw new Error("expected a miss");
    await failed.fill?.finish(false);
    const fellThrough = await waiter;
    expect(fellThrough.kind).toBe("miss");
    // The waiter may fill the entry itself.
    await fillWith(fellThrough, "second try");
    expect((await cache.decide(lookup("failing"))).kind).toBe("hit");

    await cache.decide(lookup("stuck"));
    const started = performance.now();
    expect((await cache.decide(lookup("stuck"))).kind).toBe("miss");
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  it("runs from memory only while the shared store fails, and counts it", async () => {
    const { store, calls } = brokenStore();
    const { counts, events } = counting();
    const cache = new PromptCache(store, SETTINGS, events);
    await fillWith(await cache.decide(lookup("no redis")), "from memory");
    expect((await cache.decide(lookup("no redis"))).kind).toBe("hit");
    expect((await cache.decide(lookup("another"))).kind).toBe("miss");
    expect(counts.storeFallback).toBeGreaterThanOrEqual(3);
    // After the first failure the store is left alone for storeRetryMs.
    expect(calls()).toBe(1);
  });

  it("has no part in a call when off, and bypasses what it may not keep", async () => {
    const off = new PromptCache(new MemoryStore(), { ...SETTINGS, mode: "off" }, counting().events);
    expect((await off.decide(lookup("x"))).kind).toBe("off");
    const cache = new PromptCache(new MemoryStore(), SETTINGS, counting().events);
    expect(await cache.decide(lookup("x", { temperature: 1 }))).toEqual({ kind: "bypass", fill: undefined });
    const noCache = await cache.decide({ ...lookup("x"), cacheControl: "no-cache" });
    expect(noCache.kind).toBe("bypass");
    await fillWith(noCache, "filled anyway");
    expect((await cache.decide(lookup("x"))).kind).toBe("hit");
    const noStore = await cache.decide({ ...lookup("y"), cacheControl: "no-store" });
    expect(noStore).toEqual({ kind: "miss", fill: undefined });
  });
});
