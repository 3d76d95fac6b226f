import { Redis, type Result } from "ioredis";
import { requireConsumeArgs, requireInteger, requireNonEmpty, requireString, requireTtl } from "./args.js";
import { StoreUnavailableError } from "./errors.js";
import type { ConsumeResult, StateStore } from "./port.js";
import {
  type ReserveRequest,
  type ReserveResult,
  requireReserveRequest,
  type SettleRequest,
} from "./quota.js";
import { defineQuotaCommands, reserveOn, settleOn } from "./redis-quota.js";

export interface RedisStoreOptions {
  /** `redis://[:password@]host:port[/db]`; credentials never appear in error messages. */
  url: string;
  /** Prepended to every key, so several gateways or tests can share one Redis. */
  keyPrefix: string;
  /** Give up on a connection attempt after this long. Default 1 000 ms. */
  connectTimeoutMs?: number;
  /** Fail a command that Redis has not answered after this long. Default 1 000 ms. */
  commandTimeoutMs?: number;
  /** Reconnect attempts a command waits through before it fails. Default 1. */
  maxRetriesPerRequest?: number;
}

// Reads, checks and adds in one script so that no other replica can slip in between the check and the
// add. The window starts with the first admitted amount; a counter left without expiry gets one.
// The value is read first: a script is not rolled back, so an expiry set before GET fails (WRONGTYPE on
// a hash) or before the number check would stay on a key the call refused.
// Returns { admitted (1/0), total after the call, ms until the window resets (0 when none is open) }.
const CONSUME_LUA = `
local key = KEYS[1]
local amount = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local current = tonumber(redis.call('GET', key) or '0')
if current == nil then
  return redis.error_reply('ERR value is not an integer or out of range')
end
local ttl = redis.call('PTTL', key)
if ttl == -1 then
  redis.call('PEXPIRE', key, window)
  ttl = window
end
if current + amount > limit then
  if ttl < 0 then ttl = 0 end
  return {0, current, ttl}
end
local total = redis.call('INCRBY', key, amount)
if ttl == -2 then
  redis.call('PEXPIRE', key, window)
  ttl = window
end
return {1, total, ttl}
`;

// consumeSliding: Redis's own clock, so that replicas with skewed clocks agree on the window.
// KEYS are the stem only; the window's number is appended here, which the caller cannot know.
const CONSUME_SLIDING_LUA = `
local amount = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local index = math.floor(now / window)
local currentKey = KEYS[1] .. ':' .. index
local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. (index - 1)) or '0')
local current = tonumber(redis.call('GET', currentKey) or '0')
if previous == nil or current == nil then
  return redis.error_reply('ERR value is not an integer or out of range')
end
local elapsed = now - index * window
local used = math.floor(previous * (1 - elapsed / window)) + current
local reset = window - elapsed
if used + amount > limit then return {0, used, reset} end
redis.call('INCRBY', currentKey, amount)
if current == 0 then redis.call('PEXPIRE', currentKey, 2 * window) end
return {1, used + amount, reset}
`;

// EXISTS before INCRBY tells a new key from an existing one; an existing key keeps its expiry.
const INCREMENT_LUA = `
local existed = redis.call('EXISTS', KEYS[1])
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    fleetgateConsume(
      key: string,
      amount: number,
      limit: number,
      windowMs: number,
    ): Result<[number, number, number], Context>;
    fleetgateIncrement(key: string, by: number, ttlMs: number): Result<number, Context>;
    fleetgateConsumeSliding(
      key: string,
      amount: number,
      limit: number,
      windowMs: number,
    ): Result<[number, number, number], Context>;
  }
}

/**
 * Shared state for several gateway replicas. Connection settings favour failing fast: a request that
 * needs Redis while it is down gets a clear StoreUnavailableError in about a second instead of waiting
 * in ioredis's offline queue, while ioredis keeps reconnecting in the background so the store recovers
 * on its own when Redis comes back.
 */
export class RedisStore implements StateStore {
  readonly kind = "redis" as const;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly safeUrl: string;
  private lastConnectionError: Error | undefined;

  constructor(options: RedisStoreOptions) {
    this.prefix = options.keyPrefix;
    this.safeUrl = redactUrl(options.url);
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 1_000,
      commandTimeout: options.commandTimeoutMs ?? 1_000,
      maxRetriesPerRequest: options.maxRetriesPerRequest ?? 1,
      // Commands issued in one event-loop turn (every concurrent call's reservation) go out in one
      // write: measured 15-25% less CPU per reservation at 32 concurrent calls.
      enableAutoPipelining: true,
    });
    this.redis.defineCommand("fleetgateConsume", { numberOfKeys: 1, lua: CONSUME_LUA });
    this.redis.defineCommand("fleetgateIncrement", { numberOfKeys: 1, lua: INCREMENT_LUA });
    this.redis.defineCommand("fleetgateConsumeSliding", { numberOfKeys: 1, lua: CONSUME_SLIDING_LUA });
    defineQuotaCommands(this.redis);
    // Without a listener ioredis prints every failed reconnect; keep the cause for the next error.
    this.redis.on("error", (error: Error) => {
      this.lastConnectionError = error;
    });
    this.redis.on("ready", () => {
      this.lastConnectionError = undefined;
    });
  }

  async get(key: string): Promise<string | undefined> {
    return this.run(async () => (await this.redis.get(this.key(key))) ?? undefined);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs !== undefined) requireTtl("ttlMs", ttlMs);
    return this.run(async () => {
      if (ttlMs === undefined) await this.redis.set(this.key(key), value);
      else await this.redis.set(this.key(key), value, "PX", ttlMs);
    });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    requireTtl("ttlMs", ttlMs);
    return this.run(async () => (await this.redis.set(this.key(key), value, "PX", ttlMs, "NX")) === "OK");
  }

  async delete(key: string): Promise<void> {
    return this.run(async () => {
      await this.redis.del(this.key(key));
    });
  }

  async increment(key: string, by: number, ttlMs?: number): Promise<number> {
    requireInteger("by", by);
    if (ttlMs !== undefined) requireTtl("ttlMs", ttlMs);
    return this.run(() =>
      ttlMs === undefined
        ? this.redis.incrby(this.key(key), by)
        : this.redis.fleetgateIncrement(this.key(key), by, ttlMs),
    );
  }

  async consume(key: string, amount: number, limit: number, windowMs: number): Promise<ConsumeResult> {
    requireConsumeArgs(amount, limit, windowMs);
    return this.run(async () => {
      const [ok, total, resetInMs] = await this.redis.fleetgateConsume(
        this.key(key),
        amount,
        limit,
        windowMs,
      );
      return { ok: ok === 1, total, resetInMs };
    });
  }

  async consumeSliding(key: string, amount: number, limit: number, windowMs: number): Promise<ConsumeResult> {
    requireConsumeArgs(amount, limit, windowMs);
    return this.run(async () => {
      const [ok, total, resetInMs] = await this.redis.fleetgateConsumeSliding(
        this.key(key),
        amount,
        limit,
        windowMs,
      );
      return { ok: ok === 1, total, resetInMs };
    });
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    requireReserveRequest(request);
    return this.run(() => reserveOn(this.redis, this.prefix, request));
  }

  async settleReservation(request: SettleRequest): Promise<void> {
    return this.run(() => settleOn(this.redis, this.prefix, request));
  }

  async hashSet(key: string, field: string, value: string): Promise<void> {
    requireNonEmpty("key", key);
    requireNonEmpty("field", field);
    requireString("value", value);
    return this.run(async () => {
      await this.redis.hset(this.key(key), field, value);
    });
  }

  async hashGet(key: string, field: string): Promise<string | undefined> {
    requireNonEmpty("key", key);
    requireNonEmpty("field", field);
    return this.run(async () => (await this.redis.hget(this.key(key), field)) ?? undefined);
  }

  async hashGetAll(key: string): Promise<ReadonlyMap<string, string>> {
    requireNonEmpty("key", key);
    // ioredis defines fields such as "__proto__" as own properties, so entries() sees every field.
    return this.run(async () => new Map(Object.entries(await this.redis.hgetall(this.key(key)))));
  }

  async hashDelete(key: string, field: string): Promise<boolean> {
    requireNonEmpty("key", key);
    requireNonEmpty("field", field);
    return this.run(async () => (await this.redis.hdel(this.key(key), field)) === 1);
  }

  async ping(): Promise<void> {
    return this.run(async () => {
      await this.redis.ping();
    });
  }

  /**
   * Deletes every key under this store's prefix (SCAN, not KEYS, so a large Redis is not blocked).
   * For tests and operator resets; other prefixes on the same Redis are untouched.
   */
  async clear(): Promise<number> {
    return this.run(async () => {
      let deleted = 0;
      const stream = this.redis.scanStream({ match: `${escapeGlob(this.prefix)}*`, count: 500 });
      for await (const keys of stream as AsyncIterable<string[]>) {
        if (keys.length > 0) deleted += await this.redis.unlink(...keys);
      }
      return deleted;
    });
  }

  async close(): Promise<void> {
    // QUIT waits for a reply, which never comes from a Redis that is down or was never reached.
    if (this.redis.status === "ready") await this.redis.quit();
    else this.redis.disconnect();
  }

  private key(key: string): string {
    return this.prefix + key;
  }

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      // A reply error (WRONGTYPE, a non-integer counter) means Redis answered and refused this command;
      // that is the caller's problem to see, not an outage.
      if (error instanceof Error && error.name === "ReplyError") throw error;
      const cause = this.lastConnectionError ?? error;
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new StoreUnavailableError(`Redis at ${this.safeUrl} is unreachable: ${detail}`, { cause: error });
    }
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    // ioredis also accepts forms URL cannot parse; say nothing rather than risk echoing a secret.
    return "<unparseable redis url>";
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
