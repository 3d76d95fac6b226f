import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { NodeDirectory } from "../../../src/fleet/index.js";
import { MemoryStore, RedisStore, type StateStore } from "../../../src/store/index.js";
import { testRedisUrl } from "../../support/redis.js";

const node = (id: string, url = `http://10.0.0.1:8080`) => ({ id, url, region: "fra" });

// The directory over both store adapters: it is what every replica shares.
const stores: [string, () => StateStore][] = [
  ["memory", () => new MemoryStore()],
  ["redis", () => new RedisStore({ url: testRedisUrl(), keyPrefix: `fleetgate-test-${randomUUID()}:` })],
];

describe.each(stores)("the node directory on the %s store", (_, makeStore) => {
  const store = makeStore();
  afterAll(async () => {
    if (store instanceof RedisStore) await store.clear();
    await store.close();
  });
  let now = 1_000_000;
  const directory = new NodeDirectory(store, { ttlMs: 15_000, now: () => now });

  it("creates, renews and lists a registration; another URL or owner is a conflict", async () => {
    expect(await directory.register("owner-a", node("n1"))).toBe("created");
    expect(await directory.register("owner-a", node("n1"))).toBe("refreshed");
    expect(await directory.register("owner-a", node("n1", "http://10.0.0.2:8080"))).toBe("conflict");
    expect(await directory.register("owner-b", node("n1"))).toBe("conflict");
    expect(await directory.heartbeat("owner-b", "n1", {})).toBe("conflict");
    expect(await directory.deregister("owner-b", "n1")).toBe("conflict");
    const listed = await directory.list();
    expect(listed.map((record) => record.node.id)).toContain("n1");
  });

  it("of two registrations of one new id at once, only one URL wins", async () => {
    const results = await Promise.all([
      directory.register("owner-a", node("race", "http://10.0.0.3:8080")),
      directory.register("owner-b", node("race", "http://10.0.0.4:8080")),
    ]);
    expect([...results].sort()).toEqual(["conflict", "created"]);
    const winner = (await directory.list()).find((record) => record.node.id === "race");
    expect(winner?.owner).toBe(results[0] === "created" ? "owner-a" : "owner-b");
  });

  it("keeps a node that heartbeats, and forgets one whose heartbeats stopped after the TTL", async () => {
    await directory.register("owner-a", node("beating"));
    await directory.register("owner-a", node("silent"));
    now += 10_000;
    expect(await directory.heartbeat("owner-a", "beating", { reading: { slots_busy: 1 } })).toBe("refreshed");
    now += 10_000;
    const ids = (await directory.list()).map((record) => record.node.id);
    expect(ids).toContain("beating");
    expect(ids).not.toContain("silent");
    // Expired records are pruned from the store as they are met, and cannot be renewed by a heartbeat.
    expect(await store.hashGet("fleet:{fleet}:nodes", "silent")).toBeUndefined();
    expect(await directory.heartbeat("owner-a", "silent", {})).toBe("not_found");
  });

  it("drains keep the node listed (flagged) until it is deregistered", async () => {
    await directory.register("owner-a", node("draining"));
    expect(await directory.drain("owner-a", "draining")).toBe("refreshed");
    expect(await directory.register("owner-a", node("draining"))).toBe("refreshed");
    expect((await directory.list()).find((record) => record.node.id === "draining")?.draining).toBe(true);
    expect(await directory.deregister("owner-a", "draining")).toBe("refreshed");
    expect(await directory.deregister("owner-a", "draining")).toBe("not_found");
    expect((await directory.list()).map((record) => record.node.id)).not.toContain("draining");
  });

  it("ignores a record it cannot read rather than failing the whole sync", async () => {
    await store.hashSet("fleet:{fleet}:nodes", "garbage", "{not json");
    await store.hashSet(
      "fleet:{fleet}:nodes",
      "wrong-shape",
      JSON.stringify({ node: { id: "wrong-shape" } }),
    );
    const ids = (await directory.list()).map((record) => record.node.id);
    expect(ids).not.toContain("garbage");
    expect(ids).not.toContain("wrong-shape");
    expect(ids).toContain("beating");
  });
});
