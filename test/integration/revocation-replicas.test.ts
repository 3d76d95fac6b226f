import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/accounting/index.js";
import { buildConfig } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { RedisStore } from "../../src/store/index.js";
import { silentLogger } from "../../src/telemetry/index.js";
import { adminFetch, TEST_ADMIN_TOKEN } from "../support/fleet.js";
import { testRedisUrl } from "../support/redis.js";

/**
 * Keys live in the shared store, so a key issued or revoked on one replica holds on every replica
 * within `auth.key_cache_ms`, how long a replica trusts its copy (README): there is no push, the copy
 * just expires.
 */

const REDIS_URL = testRedisUrl();
const KEY_CACHE_MS = 500;
const POLL_MS = 50;
/**
 * Both replicas and the polling run in the test's process, so a stall of a loaded machine delays the
 * refusal we see as much as the replica's expiry: the promised period, one poll, and 1.5 s for that.
 * A replica that trusted its copy four periods long would still fail.
 */
const BOUND_MS = KEY_CACHE_MS + POLL_MS + 1_500;
const CONFIG_SECRET = "replica-config-key-0123456789";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `status` every 50 ms until it answers `want`; returns how long that took. */
async function msUntilStatus(status: () => Promise<number>, want: number): Promise<number> {
  const started = performance.now();
  let last = await status();
  while (last !== want && performance.now() - started < BOUND_MS * 3) {
    await sleep(POLL_MS);
    last = await status();
  }
  expect(last, `still ${last} after ${BOUND_MS * 3} ms`).toBe(want);
  return performance.now() - started;
}

async function modelsStatus(replica: RunningGateway, secret: string): Promise<number> {
  const response = await fetch(`${replica.url}/v1/models`, {
    headers: { authorization: `Bearer ${secret}` },
  });
  await response.arrayBuffer();
  return response.status;
}

async function revoke(replica: RunningGateway, id: string): Promise<void> {
  const response = await adminFetch(replica.adminUrl, `/admin/keys/${id}`, { method: "DELETE" });
  expect(response.status, await response.text()).toBe(200);
}

/** The keys a replica's admin API lists, by id, with when each was revoked. */
async function listedOn(replica: RunningGateway): Promise<Map<string, string | null>> {
  const response = await adminFetch(replica.adminUrl, "/admin/keys");
  const { keys } = (await response.json()) as { keys: { id: string; revoked_at: string | null }[] };
  return new Map(keys.map((key) => [key.id, key.revoked_at]));
}

describe("key revocation across two replicas sharing Redis", () => {
  const prefix = `fleetgate-test:revocation:${randomUUID()}:`;
  const probe = new RedisStore({ url: REDIS_URL, keyPrefix: prefix });
  let sim: SimNode;
  let a: RunningGateway;
  let b: RunningGateway;
  let reachable = false;

  beforeAll(async () => {
    try {
      await probe.ping();
      reachable = true;
    } catch (error) {
      // Skipping would let a broken revocation pass CI unnoticed: fail loudly instead.
      throw new Error(
        `Redis required for this test at ${REDIS_URL} (FLEETGATE_TEST_REDIS_URL, or the one the test setup found or started) did not answer. Cause: ${(error as Error).message}`,
      );
    }
    sim = await startSimNode({ model: "tiny" });
    const config = buildConfig({
      server: { host: "127.0.0.1", port: 0 },
      health: { interval_ms: 100 },
      store: { redis_url: REDIS_URL, key_prefix: prefix },
      admin: { token: TEST_ADMIN_TOKEN },
      auth: {
        required: true,
        key_cache_ms: KEY_CACHE_MS,
        keys: [{ id: "configured", tenant: "acme", key_sha256: sha256Hex(CONFIG_SECRET) }],
      },
      nodes: [{ id: "node-0", url: sim.url }],
    });
    [a, b] = await Promise.all([startGateway(config, silentLogger), startGateway(config, silentLogger)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await sim?.close();
    if (reachable) await probe.clear();
    await probe.close();
  });

  it("a key issued on A works on B, and B refuses it once its copy of the key expires (auth.key_cache_ms)", async () => {
    const reply = await adminFetch(a.adminUrl, "/admin/keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant: "acme" }),
    });
    expect(reply.status).toBe(201);
    const issued = (await reply.json()) as { id: string; key: string };

    expect(await msUntilStatus(() => modelsStatus(b, issued.key), 200)).toBeLessThan(BOUND_MS);
    // B now holds the key in its cache: the revocation has to get past that copy.
    expect(await modelsStatus(b, issued.key)).toBe(200);
    await revoke(a, issued.id);
    const delay = await msUntilStatus(() => modelsStatus(b, issued.key), 401);
    console.info(`issued key refused on replica B ${delay.toFixed(0)} ms after its revocation on A`);
    expect(delay).toBeLessThan(BOUND_MS);
    expect(await modelsStatus(a, issued.key)).toBe(401);
    expect((await listedOn(b)).get(issued.id)).toEqual(expect.any(String));
  });

  it("a configured key revoked on A is refused by B once its copy expires (auth.key_cache_ms)", async () => {
    expect(await modelsStatus(b, CONFIG_SECRET)).toBe(200);
    await revoke(a, "configured");
    const delay = await msUntilStatus(() => modelsStatus(b, CONFIG_SECRET), 401);
    console.info(`configured key refused on replica B ${delay.toFixed(0)} ms after its revocation on A`);
    expect(delay).toBeLessThan(BOUND_MS);
    expect((await listedOn(b)).get("configured")).toEqual(expect.any(String));
    const error = await fetch(`${b.url}/v1/models`, { headers: { "x-api-key": CONFIG_SECRET } });
    expect(((await error.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "invalid_api_key",
      message: expect.stringMatching(/revoked/),
    });
  });
});
