import { describe, expect, it } from "vitest";
import { createStore, MemoryStore, RedisStore } from "../../../src/store/index.js";
import { runQuotaContract } from "./quota-contract.js";
import { runStoreContract } from "./store-contract.js";

let clock = 1_700_000_000_000;
const now = (): number => clock;

runStoreContract(
  "MemoryStore",
  () => new MemoryStore({ now }),
  (ms) => {
    clock += ms;
  },
);

runQuotaContract(
  "MemoryStore",
  () => new MemoryStore({ now }),
  (ms) => {
    clock += ms;
  },
);

describe("MemoryStore bounds", () => {
  it("evicts the least recently used key once the cap is reached", async () => {
    const store = new MemoryStore({ maxEntries: 3, now });
    await store.set("a", "1");
    await store.set("b", "2");
    await store.set("c", "3");
    await store.get("a");
    await store.set("d", "4");
    expect(store.size).toBe(3);
    expect(await store.get("b")).toBeUndefined();
    expect(await store.get("a")).toBe("1");
    expect(await store.get("d")).toBe("4");
    await store.close();
  });

  it("counts a hash as one entry however many fields it holds, and keeps it by recency", async () => {
    const store = new MemoryStore({ maxEntries: 2, now });
    for (let i = 0; i < 50; i += 1) await store.hashSet("h", `f${i}`, "v");
    await store.set("a", "1");
    expect(store.size).toBe(2);
    await store.hashGet("h", "f0");
    await store.set("b", "2");
    expect(await store.get("a")).toBeUndefined();
    expect((await store.hashGetAll("h")).size).toBe(50);
    await store.close();
  });

  it("stays at the cap under a flood of distinct keys", async () => {
    const store = new MemoryStore({ maxEntries: 1_000, now });
    for (let i = 0; i < 20_000; i += 1) await store.increment(`flood:${i}`, 1, 60_000);
    expect(store.size).toBe(1_000);
    expect(await store.get("flood:19999")).toBe("1");
    await store.close();
  });

  it("sweeps expired keys that are never read again", async () => {
    const store = new MemoryStore({ now });
    await store.set("gone", "x", 1_000);
    await store.set("stays", "y");
    clock += 1_001;
    expect(store.size).toBe(2);
    store.sweep();
    expect(store.size).toBe(1);
    expect(await store.get("stays")).toBe("y");
    await store.close();
  });

  it("rejects a cap that would make it useless", () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});

describe("createStore", () => {
  it("embeds a memory store when no Redis URL is configured", async () => {
    const store = createStore({ keyPrefix: "fleetgate:", memory: { maxEntries: 10 } });
    expect(store).toBeInstanceOf(MemoryStore);
    expect(store.kind).toBe("memory");
    await store.close();
  });

  it("builds a Redis store without connecting until first use", async () => {
    const store = createStore({ redisUrl: "redis://127.0.0.1:1", keyPrefix: "fleetgate:" });
    expect(store).toBeInstanceOf(RedisStore);
    expect(store.kind).toBe("redis");
    await store.close();
  });
});
