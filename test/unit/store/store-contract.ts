import { afterEach, describe, expect, it } from "vitest";
import type { StateStore } from "../../../src/store/index.js";

/** Builds a fresh adapter whose keys live under `prefix`; the suite closes it after each case. */
export type MakeStore = (prefix: string) => StateStore | Promise<StateStore>;
/** Moves the adapter's clock forward; real adapters just wait. */
export type AdvanceTime = (ms: number) => void | Promise<void>;

// Short enough that adapters on a real clock can wait it out, long enough that Redis round trips
// between two steps of one case stay well inside it.
const TTL_MS = 300;
const BEFORE_EXPIRY_MS = 100;
const PAST_EXPIRY_MS = TTL_MS + 50;

const sleep: AdvanceTime = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour every StateStore adapter must share, run against each one (the idea of hono's
 * router/common.case.test.ts): code written and tested against the embedded memory store must behave
 * the same once a deployment points it at Redis.
 */
export function runStoreContract(name: string, makeStore: MakeStore, advanceTime: AdvanceTime = sleep): void {
  describe(`StateStore contract: ${name}`, () => {
    const open: StateStore[] = [];
    let prefixes = 0;
    const fresh = async (): Promise<StateStore> => {
      prefixes += 1;
      const store = await makeStore(`c${prefixes}:`);
      open.push(store);
      return store;
    };

    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
    });

    it("answers ping", async () => {
      await expect((await fresh()).ping()).resolves.toBeUndefined();
    });

    it("gets, overwrites and deletes values", async () => {
      const store = await fresh();
      expect(await store.get("k")).toBeUndefined();
      await store.set("k", "one");
      expect(await store.get("k")).toBe("one");
      await store.set("k", "two");
      expect(await store.get("k")).toBe("two");
      await store.delete("k");
      expect(await store.get("k")).toBeUndefined();
      await expect(store.delete("never-set")).resolves.toBeUndefined();
    });

    it("expires a value after its ttl, and a later set without ttl keeps it", async () => {
      const store = await fresh();
      await store.set("short", "v", TTL_MS);
      await store.set("kept", "v", TTL_MS);
      await store.set("kept", "w");
      await advanceTime(BEFORE_EXPIRY_MS);
      expect(await store.get("short")).toBe("v");
      await advanceTime(PAST_EXPIRY_MS);
      expect(await store.get("short")).toBeUndefined();
      expect(await store.get("kept")).toBe("w");
    });

    it("sets if absent only once, and again once the first value expired", async () => {
      const store = await fresh();
      expect(await store.setIfAbsent("lock", "a", TTL_MS)).toBe(true);
      expect(await store.setIfAbsent("lock", "b", TTL_MS)).toBe(false);
      expect(await store.get("lock")).toBe("a");
      await advanceTime(PAST_EXPIRY_MS);
      expect(await store.setIfAbsent("lock", "c", TTL_MS)).toBe(true);
      expect(await store.get("lock")).toBe("c");
    });

    it("lets exactly one of many concurrent setIfAbsent calls win", async () => {
      const store = await fresh();
      const wins = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.setIfAbsent("race", String(i), TTL_MS)),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
    });

    it("increments from zero, by negative amounts too, visible through get", async () => {
      const store = await fresh();
      expect(await store.increment("n", 5)).toBe(5);
      expect(await store.increment("n", -7)).toBe(-2);
      expect(await store.get("n")).toBe("-2");
    });

    it("gives a new counter the ttl and leaves an existing counter's expiry alone", async () => {
      const store = await fresh();
      expect(await store.increment("n", 1, TTL_MS)).toBe(1);
      await advanceTime(BEFORE_EXPIRY_MS);
      expect(await store.increment("n", 1, TTL_MS)).toBe(2);
      await advanceTime(TTL_MS - BEFORE_EXPIRY_MS + 50);
      expect(await store.get("n")).toBeUndefined();
    });

    it("refuses fractional increments and non-numeric counters", async () => {
      const store = await fresh();
      await expect(store.increment("n", 1.5)).rejects.toThrow();
      await store.set("text", "hello");
      await expect(store.increment("text", 1)).rejects.toThrow();
      await expect(store.consume("text", 1, 10, TTL_MS)).rejects.toThrow();
      await expect(store.consume("n", -1, 10, TTL_MS)).rejects.toThrow();
    });

    it("consumes within the limit and reports the window", async () => {
      const store = await fresh();
      const first = await store.consume("q", 30, 100, TTL_MS);
      expect(first).toMatchObject({ ok: true, total: 30 });
      expect(first.resetInMs).toBeGreaterThan(0);
      expect(first.resetInMs).toBeLessThanOrEqual(TTL_MS);
      expect(await store.consume("q", 70, 100, TTL_MS)).toMatchObject({ ok: true, total: 100 });
      expect(await store.get("q")).toBe("100");
    });

    it("refuses an amount over the limit and leaves the total unchanged", async () => {
      const store = await fresh();
      await store.consume("q", 60, 100, TTL_MS);
      const refused = await store.consume("q", 41, 100, TTL_MS);
      expect(refused).toMatchObject({ ok: false, total: 60 });
      expect(refused.resetInMs).toBeGreaterThan(0);
      expect(await store.get("q")).toBe("60");
      expect(await store.consume("q", 40, 100, TTL_MS)).toMatchObject({ ok: true, total: 100 });
    });

    it("refuses an amount larger than the whole limit without opening a window", async () => {
      const store = await fresh();
      expect(await store.consume("q", 101, 100, TTL_MS)).toEqual({ ok: false, total: 0, resetInMs: 0 });
      expect(await store.get("q")).toBeUndefined();
    });

    it("starts a new window after windowMs", async () => {
      const store = await fresh();
      await store.consume("q", 100, 100, TTL_MS);
      expect((await store.consume("q", 1, 100, TTL_MS)).ok).toBe(false);
      await advanceTime(PAST_EXPIRY_MS);
      expect(await store.consume("q", 1, 100, TTL_MS)).toMatchObject({ ok: true, total: 1 });
    });

    it("gives a counter that was set without expiry a window instead of keeping it forever", async () => {
      const store = await fresh();
      await store.set("q", "5");
      const result = await store.consume("q", 1, 10, TTL_MS);
      expect(result).toMatchObject({ ok: true, total: 6 });
      expect(result.resetInMs).toBeGreaterThan(0);
      await advanceTime(PAST_EXPIRY_MS);
      expect(await store.get("q")).toBeUndefined();
    });

    it("never admits more than the limit under 200 concurrent consumes", async () => {
      const store = await fresh();
      const results = await Promise.all(
        Array.from({ length: 200 }, () => store.consume("burst", 1, 50, 10_000)),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(50);
      expect(results.filter((r) => !r.ok).every((r) => r.total === 50)).toBe(true);
      expect(await store.get("burst")).toBe("50");
    });

    it("slides: a limit used up is not admitted again less than one window later", async () => {
      const store = await fresh();
      expect(await store.consumeSliding("slide", 10, 10, TTL_MS)).toMatchObject({ ok: true, total: 10 });
      const refused = await store.consumeSliding("slide", 1, 10, TTL_MS);
      expect(refused).toMatchObject({ ok: false, total: 10 });
      expect(refused.resetInMs).toBeGreaterThan(0);
      expect(refused.resetInMs).toBeLessThanOrEqual(TTL_MS);
      // Whether or not a window edge passed meanwhile, most of the earlier use still weighs.
      await advanceTime(BEFORE_EXPIRY_MS / 2);
      expect((await store.consumeSliding("slide", 10, 10, TTL_MS)).ok).toBe(false);
      await advanceTime(2 * TTL_MS + 50);
      expect(await store.consumeSliding("slide", 10, 10, TTL_MS)).toMatchObject({ ok: true, total: 10 });
    });

    it("never slides past the limit under 200 concurrent consumes", async () => {
      const store = await fresh();
      const hour = 3_600_000;
      const results = await Promise.all(
        Array.from({ length: 200 }, () => store.consumeSliding("slide-burst", 1, 50, hour)),
      );
      expect(results.filter((r) => r.ok).length).toBeLessThanOrEqual(50);
      expect(results.filter((r) => r.ok).length).toBeGreaterThanOrEqual(49);
    });

    it("sets, overwrites and reads hash fields", async () => {
      const store = await fresh();
      expect(await store.hashGet("apikeys", "k1")).toBeUndefined();
      await store.hashSet("apikeys", "k1", "one");
      await store.hashSet("apikeys", "k2", "two");
      await store.hashSet("apikeys", "k1", "uno");
      expect(await store.hashGet("apikeys", "k1")).toBe("uno");
      expect(await store.hashGet("apikeys", "k3")).toBeUndefined();
      expect(await store.hashGetAll("apikeys")).toEqual(
        new Map([
          ["k1", "uno"],
          ["k2", "two"],
        ]),
      );
    });

    it("reads an absent hash as empty and hands out snapshots", async () => {
      const store = await fresh();
      expect(await store.hashGetAll("none")).toEqual(new Map());
      await store.hashSet("h", "a", "1");
      const before = await store.hashGetAll("h");
      await store.hashSet("h", "b", "2");
      expect([...before.keys()]).toEqual(["a"]);
    });

    it("deletes hash fields, true only when there, and the last field takes the key with it", async () => {
      const store = await fresh();
      expect(await store.hashDelete("h", "a")).toBe(false);
      await store.hashSet("h", "a", "1");
      await store.hashSet("h", "b", "2");
      expect(await store.hashDelete("h", "a")).toBe(true);
      expect(await store.hashDelete("h", "a")).toBe(false);
      expect(await store.hashGetAll("h")).toEqual(new Map([["b", "2"]]));
      expect(await store.hashDelete("h", "b")).toBe(true);
      // The emptied hash is gone, so the key is free for a string again.
      expect(await store.get("h")).toBeUndefined();
      expect(await store.increment("h", 1)).toBe(1);
    });

    it("keeps odd field names, empty and large values intact", async () => {
      const store = await fresh();
      const fields = [
        "a:b",
        "{tenant}:key",
        "with space",
        "ünïcødé",
        "line\nbreak",
        "__proto__",
        "constructor",
      ];
      const large = JSON.stringify({ id: "k1", blob: "x".repeat(256 * 1024) });
      for (const field of fields) await store.hashSet("{t1}:h", field, `v-${field}`);
      await store.hashSet("{t1}:h", "large", large);
      await store.hashSet("{t1}:h", "empty", "");
      const all = await store.hashGetAll("{t1}:h");
      expect(all.size).toBe(fields.length + 2);
      for (const field of fields) expect(all.get(field)).toBe(`v-${field}`);
      expect(all.get("large")).toBe(large);
      expect(await store.hashGet("{t1}:h", "large")).toBe(large);
      expect(await store.hashGet("{t1}:h", "empty")).toBe("");
      expect(await store.hashGet("{t1}:h", "__proto__")).toBe("v-__proto__");
    });

    it("lands every one of many concurrent field writes", async () => {
      const store = await fresh();
      await Promise.all(Array.from({ length: 100 }, (_, i) => store.hashSet("h", `f${i}`, String(i))));
      const all = await store.hashGetAll("h");
      expect(all.size).toBe(100);
      expect(all.get("f42")).toBe("42");
    });

    it("refuses a string as a hash and a hash as a string with WRONGTYPE, leaving both intact", async () => {
      const store = await fresh();
      await store.set("s", "text");
      await expect(store.hashSet("s", "f", "v")).rejects.toThrow(/^WRONGTYPE/);
      await expect(store.hashGet("s", "f")).rejects.toThrow(/^WRONGTYPE/);
      await expect(store.hashGetAll("s")).rejects.toThrow(/^WRONGTYPE/);
      await expect(store.hashDelete("s", "f")).rejects.toThrow(/^WRONGTYPE/);
      expect(await store.get("s")).toBe("text");

      await store.hashSet("h", "f", "v");
      await expect(store.get("h")).rejects.toThrow(/^WRONGTYPE/);
      await expect(store.increment("h", 1, TTL_MS)).rejects.toThrow(/^WRONGTYPE/);
      await expect(store.consume("h", 1, 10, TTL_MS)).rejects.toThrow(/^WRONGTYPE/);
      expect(await store.setIfAbsent("h", "x", TTL_MS)).toBe(false);
      // A refused consume must not have given the hash a window's expiry.
      await advanceTime(PAST_EXPIRY_MS);
      expect(await store.hashGet("h", "f")).toBe("v");
      await store.set("h", "replaced");
      expect(await store.get("h")).toBe("replaced");
    });

    it("refuses empty hash keys and fields", async () => {
      const store = await fresh();
      await expect(store.hashSet("", "f", "v")).rejects.toThrow(TypeError);
      await expect(store.hashSet("h", "", "v")).rejects.toThrow(/field/);
      await expect(store.hashGet("h", "")).rejects.toThrow(/field/);
      await expect(store.hashGetAll("")).rejects.toThrow(/key/);
      await expect(store.hashDelete("h", "")).rejects.toThrow(/field/);
      await expect(store.hashSet("h", "f", JSON.stringify(undefined))).rejects.toThrow(/value/);
      expect(await store.hashGetAll("h")).toEqual(new Map());
    });

    it("keeps keys of different prefixes apart", async () => {
      const a = await fresh();
      const b = await fresh();
      await a.set("shared", "from-a");
      await a.consume("quota", 10, 10, TTL_MS);
      await a.hashSet("apikeys", "k1", "from-a");
      expect(await b.get("shared")).toBeUndefined();
      expect(await b.hashGetAll("apikeys")).toEqual(new Map());
      expect(await b.consume("quota", 10, 10, TTL_MS)).toMatchObject({ ok: true, total: 10 });
      await b.set("shared", "from-b");
      await b.delete("shared");
      expect(await a.get("shared")).toBe("from-a");
    });
  });
}
