import { describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { testRedisUrl } from "../support/redis.js";
import { answersPing, resolveTestRedis } from "../support/redis-setup.js";

// The decision the test setup makes for every run, played out against real redis-servers with the
// "already running" port pointed where the test wants it, since the shared 6379 cannot be stopped.
describe("the tests' own Redis", () => {
  it("starts a private redis-server on a free port when nothing answers on the default one, and stops it", async () => {
    const closed = await freePort();
    const redis = await resolveTestRedis({ defaultPort: closed });
    expect(redis?.private).toBe(true);
    const port = Number(new URL(redis!.url).port);
    expect(port).not.toBe(closed);
    expect(await answersPing(port)).toBe(true);
    await redis!.stop();
    expect(await answersPing(port)).toBe(false);
  });

  it("uses the Redis that answers on the default port and leaves it running", async () => {
    const port = Number(new URL(testRedisUrl()).port);
    const redis = await resolveTestRedis({ defaultPort: port });
    expect(redis).toMatchObject({ url: `redis://127.0.0.1:${port}`, private: false });
    await redis!.stop();
    expect(await answersPing(port)).toBe(true);
  });

  it("reports no Redis, rather than skipping, when there is no redis-server to start", async () => {
    const command = "redis-server-that-is-not-installed";
    expect(await resolveTestRedis({ defaultPort: await freePort(), command })).toBeUndefined();
  });

  it("tells a test without a Redis how to get one", () => {
    const saved = process.env.FLEETGATE_TEST_REDIS_URL;
    delete process.env.FLEETGATE_TEST_REDIS_URL;
    try {
      expect(() => testRedisUrl()).toThrow(/apt-get install redis-server/);
    } finally {
      process.env.FLEETGATE_TEST_REDIS_URL = saved;
    }
  });
});
