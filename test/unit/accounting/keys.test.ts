import { afterEach, describe, expect, it } from "vitest";
import { type ConfiguredKey, KeyRing, type Principal, sha256Hex } from "../../../src/accounting/index.js";
import { GatewayError } from "../../../src/errors.js";
import { MemoryStore } from "../../../src/store/index.js";

/** The store hash the key ring keeps issued (and revoked) keys in. */
const STORE_KEY = "apikeys";
const CACHE_MS = 500;
const ISSUED = /^fg_([0-9a-f]{16})_[A-Za-z0-9_-]{32}$/;
const CONFIG_SECRET = "configured-secret-0123456789";
const CONFIGURED: ConfiguredKey = {
  id: "ops",
  tenant: "ops-team",
  sha256: sha256Hex(CONFIG_SECRET),
  models: ["tiny"],
  regions: ["fra"],
};

/** A MemoryStore that counts key lookups, to tell a cached answer from a store read. */
class CountingStore extends MemoryStore {
  lookups = 0;
  override async hashGet(key: string, field: string): Promise<string | undefined> {
    this.lookups += 1;
    return super.hashGet(key, field);
  }
}

let clock = 1_700_000_000_000;
const now = () => clock;
const stores: MemoryStore[] = [];

function newStore(): CountingStore {
  const store = new CountingStore({ now });
  stores.push(store);
  return store;
}

function ring(store: MemoryStore, options: { configured?: ConfiguredKey[]; cacheMs?: number } = {}): KeyRing {
  return new KeyRing({
    configured: options.configured ?? [],
    store,
    cacheMs: options.cacheMs ?? CACHE_MS,
    now,
  });
}

/** A secret in the issued format for an id the ring may never have issued. */
const issuedLike = (id: string, tail = "A".repeat(32)) => `fg_${id}_${tail}`;
const hexId = (n: number) => n.toString(16).padStart(16, "0");

async function accepted(keys: KeyRing, secret: string | undefined): Promise<Principal> {
  const result = await keys.authenticate(secret);
  if (result instanceof GatewayError) throw new Error(`refused: ${result.message}`);
  return result;
}

/** The refusal's message, after checking it is the 401 invalid_api_key every client sees. */
async function refused(keys: KeyRing, secret: string | undefined): Promise<string> {
  const result = await keys.authenticate(secret);
  expect(result).toBeInstanceOf(GatewayError);
  expect(result).toMatchObject({ status: 401, code: "invalid_api_key", type: "authentication_error" });
  return (result as GatewayError).message;
}

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

describe("KeyRing: the per-replica cache", () => {
  it("makes a revocation on one replica visible on another once cacheMs has passed", async () => {
    const store = newStore();
    const [a, b] = [ring(store), ring(store)];
    const { info, secret } = await a.create({ tenant: "acme" });
    expect((await accepted(a, secret)).keyId).toBe(info.id);
    expect((await accepted(b, secret)).keyId).toBe(info.id);

    await a.revoke(info.id);
    // The revoking replica drops its own copy at once.
    expect(await refused(a, secret)).toMatch(/revoked/);
    // The other one trusts its copy for cacheMs, and not a millisecond longer.
    clock += CACHE_MS - 1;
    expect((await accepted(b, secret)).keyId).toBe(info.id);
    clock += 1;
    expect(await refused(b, secret)).toMatch(/revoked/);
  });

  it("does the same for a configured key revoked through the store", async () => {
    const store = newStore();
    const [a, b] = [ring(store, { configured: [CONFIGURED] }), ring(store, { configured: [CONFIGURED] })];
    expect(await accepted(b, CONFIG_SECRET)).toMatchObject({ keyId: "ops", tenant: "ops-team" });
    await a.revoke("ops");
    clock += CACHE_MS;
    expect(await refused(b, CONFIG_SECRET)).toMatch(/revoked/);
    expect(await refused(a, CONFIG_SECRET)).toMatch(/revoked/);
  });

  it("reads the store on every call with cacheMs 0", async () => {
    const store = newStore();
    const [a, b] = [ring(store), ring(store, { cacheMs: 0 })];
    const { info, secret } = await a.create({ tenant: "acme" });
    await accepted(b, secret);
    await a.revoke(info.id);
    expect(await refused(b, secret)).toMatch(/revoked/);
  });

  it("is bounded: a flood of distinct key ids pushes the oldest entries out", async () => {
    const store = newStore();
    const keys = ring(store);
    const { secret } = await keys.create({ tenant: "acme" });
    await accepted(keys, secret);
    const afterFirst = store.lookups;
    await accepted(keys, secret);
    expect(store.lookups, "a second call within cacheMs is answered from the cache").toBe(afterFirst);

    // Well past the 10 000 ids a replica keeps; the clock does not move, so nothing expires.
    const flood = 20_000;
    for (let i = 0; i < flood; i++) await refused(keys, issuedLike(hexId(i)));
    expect(store.lookups).toBe(afterFirst + flood);
    await refused(keys, issuedLike(hexId(flood - 1)));
    expect(store.lookups, "the newest entries are still cached").toBe(afterFirst + flood);
    await accepted(keys, secret);
    expect(store.lookups, "the oldest entry was evicted, so it is read again").toBe(afterFirst + flood + 1);
  });
});

describe("KeyRing: stored records that are not valid", () => {
  const id = hexId(0xbad);
  const secret = issuedLike(id);
  const garbage = [
    ["not JSON", "{not json"],
    ["JSON of the wrong type", "[1, 2, 3]"],
    ["a record without a hash", JSON.stringify({ id, tenant: "acme", created_at: null, revoked_at: null })],
    [
      "a record whose hash is not hex",
      JSON.stringify({
        id,
        tenant: "acme",
        sha256: "z".repeat(64),
        created_at: null,
        revoked_at: null,
        source: "admin",
      }),
    ],
  ] as const;

  it.each(garbage)("treats %s as an unknown key", async (_, json) => {
    const store = newStore();
    await store.hashSet(STORE_KEY, id, json);
    const keys = ring(store, { configured: [CONFIGURED] });
    expect(await refused(keys, secret)).toMatch(/not valid/);
    expect(await keys.list()).toEqual([expect.objectContaining({ id: "ops", source: "config" })]);
    expect(await ring(store).any()).toBe(false);
    await expect(keys.revoke(id)).rejects.toMatchObject({ status: 404, code: "key_not_found" });
  });

  it("does not let a garbage record under a configured key's id refuse that key", async () => {
    const store = newStore();
    await store.hashSet(STORE_KEY, "ops", "{not json");
    expect((await accepted(ring(store, { configured: [CONFIGURED] }), CONFIG_SECRET)).keyId).toBe("ops");
  });

  it("keeps serving the good records beside a garbage one", async () => {
    const store = newStore();
    const keys = ring(store);
    const { info, secret: good } = await keys.create({ tenant: "acme" });
    await store.hashSet(STORE_KEY, id, "{not json");
    expect((await accepted(keys, good)).keyId).toBe(info.id);
    expect((await keys.list()).map((key) => key.id)).toEqual([info.id]);
  });
});

describe("KeyRing: issued keys", () => {
  it("issues `fg_<16 hex id>_<32 base64url>` secrets, naming the key, never stored in the clear", async () => {
    const store = newStore();
    const keys = ring(store);
    const { info, secret } = await keys.create({
      tenant: "acme",
      models: ["tiny"],
      limits: { max_concurrent: 2 },
    });
    expect(secret).toMatch(ISSUED);
    expect(ISSUED.exec(secret)?.[1]).toBe(info.id);
    expect(info).toEqual({
      id: info.id,
      source: "admin",
      tenant: "acme",
      models: ["tiny"],
      limits: { max_concurrent: 2 },
      created_at: new Date(clock).toISOString(),
      revoked_at: null,
    });
    const stored = await store.hashGet(STORE_KEY, info.id);
    expect(stored).toContain(sha256Hex(secret));
    expect(stored).not.toContain(secret.slice(-32));

    const principal = await accepted(keys, secret);
    expect(principal).toMatchObject({ keyId: info.id, tenant: "acme", limits: { max_concurrent: 2 } });
    expect(principal.models).toEqual(new Set(["tiny"]));
  });

  it("issues a different id and secret every time", async () => {
    const keys = ring(newStore());
    const issued = await Promise.all(Array.from({ length: 20 }, () => keys.create({ tenant: "acme" })));
    expect(new Set(issued.map(({ info }) => info.id)).size).toBe(20);
    expect(new Set(issued.map(({ secret }) => secret)).size).toBe(20);
  });

  it("refuses a secret with the right id but another tail, or no key at all", async () => {
    const keys = ring(newStore());
    const { info, secret } = await keys.create({ tenant: "acme" });
    const tail = secret.slice(-32);
    const flipped = `${tail[0] === "A" ? "B" : "A"}${tail.slice(1)}`;
    expect(await refused(keys, issuedLike(info.id, flipped))).toMatch(/not valid/);
    expect(await refused(keys, secret.slice(0, -1))).toMatch(/not valid/);
    expect(await refused(keys, undefined)).toMatch(/No API key/);
    expect(await refused(keys, "")).toMatch(/No API key/);
  });

  it("keeps the configured key's grant in its principal", async () => {
    const principal = await accepted(ring(newStore(), { configured: [CONFIGURED] }), CONFIG_SECRET);
    expect(principal.models).toEqual(new Set(["tiny"]));
    expect(principal.regions).toEqual(new Set(["fra"]));
  });
});

describe("KeyRing.any()", () => {
  it("is false with nothing to authenticate against", async () => {
    expect(await ring(newStore()).any()).toBe(false);
  });

  it("is true with a configured key", async () => {
    expect(await ring(newStore(), { configured: [CONFIGURED] }).any()).toBe(true);
  });

  it("follows issued keys: true once one exists, false when the only one is revoked", async () => {
    const store = newStore();
    const keys = ring(store);
    const first = await keys.create({ tenant: "acme" });
    expect(await ring(store).any()).toBe(true);
    const second = await keys.create({ tenant: "acme" });
    await keys.revoke(first.info.id);
    expect(await keys.any()).toBe(true);
    await keys.revoke(second.info.id);
    expect(await keys.any()).toBe(false);
  });
});
