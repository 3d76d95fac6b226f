import type { ReserveRequest, ReserveResult, SettleRequest } from "./quota.js";

/**
 * State that must hold across gateway replicas (quotas, affinity, cache, dynamic nodes) goes through
 * this port. Two adapters implement it: in-memory (embedded default) and Redis. Keys are namespaced by
 * the adapter's prefix; values are strings, and callers serialise their own records.
 *
 * A key holds either a string (get/set/counters) or a hash (the hash* methods). Using it as the other
 * kind fails with an error whose message starts with WRONGTYPE, as Redis answers; set() and delete()
 * replace or remove either kind.
 */
export interface ConsumeResult {
  /** Whether the amount was added (the total stayed within the limit). */
  readonly ok: boolean;
  /** The counter's value after the call (unchanged when `ok` is false). */
  readonly total: number;
  /** Milliseconds until the counter's window expires. */
  readonly resetInMs: number;
}

export interface StateStore {
  readonly kind: "memory" | "redis";
  get(key: string): Promise<string | undefined>;
  /** Sets a value; with `ttlMs` it expires after that long. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only when the key is absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Atomically adds `by` (may be negative) and returns the new value; a new key gets `ttlMs`. */
  increment(key: string, by: number, ttlMs?: number): Promise<number>;
  /**
   * Atomically adds `amount` to a windowed counter only if the total stays at or under `limit`.
   * The window starts with the first amount and lasts `windowMs`. This is what makes a quota hold
   * across replicas: N gateways sharing one Redis admit at most `limit`, not N × limit.
   */
  consume(key: string, amount: number, limit: number, windowMs: number): Promise<ConsumeResult>;
  /**
   * consume() over a sliding window: the previous window's total counts, weighted by how much of it
   * still overlaps the last `windowMs`, so a key that used its limit just before a window edge cannot
   * use it again just after (a fixed window admits double there). `resetInMs` is when the current
   * window ends; `total` is the weighted use after the call.
   */
  consumeSliding(key: string, amount: number, limit: number, windowMs: number): Promise<ConsumeResult>;
  /**
   * Charges every window and claims every slot of the request, or none when one does not fit: the
   * quota reservation, atomic across replicas. See quota.ts for the shapes.
   */
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Moves window charges to their exact amounts, releases slots and adds ledger counters, atomically. */
  settleReservation(request: SettleRequest): Promise<void>;
  /** Sets one field of a hash (a string → string map stored under `key`). */
  hashSet(key: string, field: string, value: string): Promise<void>;
  /** One field of a hash, or undefined. */
  hashGet(key: string, field: string): Promise<string | undefined>;
  /** Every field of a hash (empty when the key is absent). */
  hashGetAll(key: string): Promise<ReadonlyMap<string, string>>;
  /** Removes one field; true when it was there. */
  hashDelete(key: string, field: string): Promise<boolean>;
  /** Verifies the backing service answers; the memory store always does. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
