import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore, StoreUnavailableError } from "../../src/store/index.js";
import { freePort } from "../support/ports.js";
import { testRedisUrl } from "../support/redis.js";
import { runQuotaContract } from "../unit/store/quota-contract.js";
import { runStoreContract } from "../unit/store/store-contract.js";

const REDIS_URL = testRedisUrl();
// One prefix per run so parallel runs and other users of this Redis never see each other's keys.
const RUN_PREFIX = `fleetgate-test:store:${randomUUID()}:`;

const open = (keyPrefix: string, url = REDIS_URL): RedisStore => new RedisStore({ url, keyPrefix });
const admin = open(RUN_PREFIX);
let reachable = false;

beforeAll(async () => {
  try {
    await admin.ping();
    reachable = true;
  } catch (error) {
    // A skipped test would pass CI while the quota guarantee went unchecked; fail loudly instead.
    throw new Error(
      `Redis required for this test at ${withoutPassword(REDIS_URL)} (FLEETGATE_TEST_REDIS_URL, or the one the ` +
        `test setup found or started) did not answer. Cause: ${(error as Error).message}`,
    );
  }
});

afterAll(async () => {
  try {
    if (reachable) await admin.clear();
  } finally {
    await admin.close();
  }
});

runStoreContract("RedisStore", (prefix) => open(`${RUN_PREFIX}${prefix}`));
runQuotaContract("RedisStore", (prefix) => open(`${RUN_PREFIX}${prefix}`));

describe("RedisStore across replicas", () => {
  it("admits exactly the limit in total when two replicas consume one quota concurrently", async () => {
    const replicas = [open(`${RUN_PREFIX}replicas:`), open(`${RUN_PREFIX}replicas:`)];
    try {
      const attempts = Array.from({ length: 300 }, (_, i) =>
        replicas[i % 2]!.consume("tenant-tpm", 3, 150, 10_000),
      );
      const results = await Promise.all(attempts);
      expect(results.filter((r) => r.ok)).toHaveLength(50);
      expect(await replicas[0]!.get("tenant-tpm")).toBe("150");
      expect(await replicas[1]!.get("tenant-tpm")).toBe("150");
    } finally {
      await Promise.all(replicas.map((store) => store.close()));
    }
  });

  it("shares one hash between replicas, stored under the prefix", async () => {
    const [a, b] = [open(`${RUN_PREFIX}hash:`), open(`${RUN_PREFIX}hash:`)];
    try {
      await a.hashSet("apikeys", "k1", '{"tenant":"t1"}');
      await b.hashSet("apikeys", "k2", '{"tenant":"t2"}');
      expect(await b.hashGet("apikeys", "k1")).toBe('{"tenant":"t1"}');
      expect([...(await a.hashGetAll("apikeys")).keys()].sort()).toEqual(["k1", "k2"]);
      expect(await b.hashDelete("apikeys", "k1")).toBe(true);
      expect(await a.hashGet("apikeys", "k1")).toBeUndefined();
      // The prefix is prepended as for string keys, so the run prefix alone reaches the same hash.
      expect(await admin.hashGet("hash:apikeys", "k2")).toBe('{"tenant":"t2"}');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("clears only its own prefix", async () => {
    const mine = open(`${RUN_PREFIX}clear:mine:`);
    const other = open(`${RUN_PREFIX}clear:other:`);
    try {
      await Promise.all([mine.set("a", "1"), mine.hashSet("b", "f", "2"), other.set("a", "3")]);
      expect(await mine.clear()).toBe(2);
      expect(await mine.get("a")).toBeUndefined();
      expect(await other.get("a")).toBe("3");
    } finally {
      await Promise.all([mine.close(), other.close()]);
    }
  });
});

describe("RedisStore when Redis is down", () => {
  it("fails fast with an error naming the unreachable URL, without leaking the password", async () => {
    const port = await freePort();
    const store = open(`${RUN_PREFIX}down:`, `redis://:s3cret@127.0.0.1:${port}`);
    try {
      const started = performance.now();
      const error = await store.get("k").catch((caught: unknown) => caught);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).code).toBe("FLEETGATE_STORE_UNAVAILABLE");
      expect((error as Error).message).toMatch(`Redis at redis://:***@127.0.0.1:${port}`);
      expect((error as Error).message).toMatch(/unreachable.*ECONNREFUSED/);
      expect((error as Error).message).not.toContain("s3cret");
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}
