import { MemoryStore, type MemoryStoreOptions } from "./memory.js";
import type { StateStore } from "./port.js";
import { RedisStore, type RedisStoreOptions } from "./redis.js";

export { StoreUnavailableError } from "./errors.js";
export { MemoryStore, type MemoryStoreOptions } from "./memory.js";
export { observeStoreErrors } from "./observed.js";
export type { ConsumeResult, StateStore } from "./port.js";
export {
  type HashCounters,
  msUntilFits,
  type ReserveRequest,
  type ReserveResult,
  type SettleRequest,
  type SlotClaim,
  slidingUse,
  type WindowAdjustment,
  type WindowCharge,
  type WindowReading,
} from "./quota.js";
export { RedisStore, type RedisStoreOptions } from "./redis.js";

export interface CreateStoreOptions {
  /** Shared Redis for several replicas; without it the store lives in this process only. */
  redisUrl?: string;
  /** Namespaces every Redis key (config `store.key_prefix`, default "fleetgate:"). */
  keyPrefix: string;
  memory?: MemoryStoreOptions;
  redis?: Omit<RedisStoreOptions, "url" | "keyPrefix">;
}

/**
 * Picks the adapter from config. Nothing connects here: the Redis store connects on first use, so the
 * composition root decides whether to ping() at startup (fail fast) or report it through /readyz.
 */
export function createStore(options: CreateStoreOptions): StateStore {
  if (options.redisUrl === undefined) return new MemoryStore(options.memory);
  return new RedisStore({ ...options.redis, url: options.redisUrl, keyPrefix: options.keyPrefix });
}
