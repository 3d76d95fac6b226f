import { Redis } from "ioredis";
import { RedisStore } from "../../src/store/index.js";

/** The name under which the test setup hands every test worker the one Redis URL of the run. */
export const TEST_REDIS_ENV = "FLEETGATE_TEST_REDIS_URL";

export const NO_TEST_REDIS =
  "no Redis for the tests: FLEETGATE_TEST_REDIS_URL is unset, nothing answers on 127.0.0.1:6379 and there " +
  "is no redis-server on PATH for the test setup to start; install one (Debian: apt-get install " +
  "redis-server) or set FLEETGATE_TEST_REDIS_URL";

/**
 * The Redis every Redis test uses: the caller's FLEETGATE_TEST_REDIS_URL, or the one test/support/redis-setup.ts
 * found or started. Throws rather than letting the test skip: a skipped store test would pass CI while the
 * shared-state guarantees went unchecked.
 */
export function testRedisUrl(): string {
  const url = process.env[TEST_REDIS_ENV];
  if (!url) throw new Error(NO_TEST_REDIS);
  return url;
}

/** Deletes every key a test wrote under its own prefix, leaving the rest of the shared Redis alone. */
export async function clearRedisPrefix(url: string, prefix: string): Promise<void> {
  const store = new RedisStore({ url, keyPrefix: prefix });
  try {
    await store.clear();
  } finally {
    await store.close();
  }
}

/** Redis's own clock in ms: the clock the quota windows are cut by, whatever the test machine's says. */
export async function redisNowMs(url: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  } finally {
    redis.disconnect();
  }
}
