import { requireConsumeArgs, requireInteger, requireNonEmpty, requireString, requireTtl } from "./args.js";
import { type QuotaCells, reserveIn, settleIn } from "./memory-quota.js";
import type { ConsumeResult, StateStore } from "./port.js";
import type { ReserveRequest, ReserveResult, SettleRequest } from "./quota.js";

export interface MemoryStoreOptions {
  /** Upper bound on live keys; past it the least recently used key is dropped. Default 100 000. */
  maxEntries?: number;
  /** How often expired keys are swept out. Default 30 000 ms. */
  sweepIntervalMs?: number;
  /** Clock in epoch milliseconds; injected so tests can move time without sleeping. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  /** A string, or a hash's fields; a hash counts as one entry towards the cap however many it holds. */
  value: string | Map<string, string>;
  /** Epoch ms after which the entry is gone; undefined means it never expires. */
  expiresAt: number | undefined;
}

const DEFAULT_MAX_ENTRIES = 100_000;
const DEFAULT_SWEEP_INTERVAL_MS = 30_000;

/**
 * The embedded default: one process, no I/O. Every method runs to completion synchronously inside
 * its promise, so read-check-write sequences (consume, setIfAbsent) are atomic without locks.
 *
 * Memory stays bounded two ways: expired keys are dropped when read and by a periodic sweep (keys that
 * are written once and never read again would otherwise linger), and a cap on entries evicts the least
 * recently used key, so a flood of distinct keys cannot grow the heap. The Map's insertion order is the
 * recency order: every read or write moves the key to the end.
 */
export class MemoryStore implements StateStore {
  readonly kind = "memory" as const;
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${this.maxEntries}`);
    }
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
    // The sweep is housekeeping; it must not keep a CLI run or a test process alive.
    this.sweeper.unref();
  }

  /** Live entries, including expired ones the sweep has not reached yet. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every expired entry; runs on the sweep interval, callable directly to force it. */
  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (isExpired(entry, now)) this.entries.delete(key);
    }
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.read(key);
    return entry && stringOf(key, entry);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs !== undefined) requireTtl("ttlMs", ttlMs);
    this.write(key, { value, expiresAt: this.expiry(ttlMs) });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    requireTtl("ttlMs", ttlMs);
    if (this.read(key)) return false;
    this.write(key, { value, expiresAt: this.expiry(ttlMs) });
    return true;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async increment(key: string, by: number, ttlMs?: number): Promise<number> {
    requireInteger("by", by);
    if (ttlMs !== undefined) requireTtl("ttlMs", ttlMs);
    const entry = this.read(key);
    const total = (entry ? counterValue(key, entry) : 0) + by;
    // Like INCRBY, an existing key keeps its expiry; only a new key takes ttlMs.
    this.write(key, { value: String(total), expiresAt: entry ? entry.expiresAt : this.expiry(ttlMs) });
    return total;
  }

  async consume(key: string, amount: number, limit: number, windowMs: number): Promise<ConsumeResult> {
    requireConsumeArgs(amount, limit, windowMs);
    const entry = this.read(key);
    // Checked before the expiry below, so a refused call leaves a hash or a non-number untouched.
    const current = entry ? counterValue(key, entry) : 0;
    // A counter written without expiry (e.g. by set) would otherwise never reset; give it a window.
    if (entry && entry.expiresAt === undefined) entry.expiresAt = this.now() + windowMs;
    if (current + amount > limit) {
      return { ok: false, total: current, resetInMs: this.remaining(entry?.expiresAt) };
    }
    const expiresAt = entry?.expiresAt ?? this.now() + windowMs;
    this.write(key, { value: String(current + amount), expiresAt });
    return { ok: true, total: current + amount, resetInMs: this.remaining(expiresAt) };
  }

  async consumeSliding(key: string, amount: number, limit: number, windowMs: number): Promise<ConsumeResult> {
    requireConsumeArgs(amount, limit, windowMs);
    const now = this.now();
    const window = Math.floor(now / windowMs);
    const currentKey = `${key}:${window}`;
    const previous = this.read(`${key}:${window - 1}`);
    const current = this.read(currentKey);
    const elapsed = now - window * windowMs;
    const used =
      Math.floor((previous ? counterValue(key, previous) : 0) * (1 - elapsed / windowMs)) +
      (current ? counterValue(key, current) : 0);
    const resetInMs = windowMs - elapsed;
    if (used + amount > limit) return { ok: false, total: used, resetInMs };
    // Kept two windows: the next window still weighs this one.
    const count = (current ? counterValue(key, current) : 0) + amount;
    this.write(currentKey, { value: String(count), expiresAt: current?.expiresAt ?? now + 2 * windowMs });
    return { ok: true, total: used + amount, resetInMs };
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    return reserveIn(this.cells, request);
  }

  async settleReservation(request: SettleRequest): Promise<void> {
    settleIn(this.cells, request);
  }

  private readonly cells: QuotaCells = {
    now: () => this.now(),
    counter: (key) => {
      const entry = this.read(key);
      return entry ? counterValue(key, entry) : 0;
    },
    add: (key, by, ttlMs) => {
      const entry = this.read(key);
      const total = (entry ? counterValue(key, entry) : 0) + by;
      this.write(key, { value: String(total), expiresAt: entry ? entry.expiresAt : this.now() + ttlMs });
    },
    hash: (key, create) => {
      const entry = this.read(key);
      if (entry) return hashOf(key, entry);
      if (!create) return undefined;
      const fields = new Map<string, string>();
      this.write(key, { value: fields, expiresAt: this.now() + create.ttlMs });
      return fields;
    },
    keepFor: (key, ttlMs) => {
      const entry = this.read(key);
      if (entry?.expiresAt !== undefined) entry.expiresAt = Math.max(entry.expiresAt, this.now() + ttlMs);
    },
  };

  async hashSet(key: string, field: string, value: string): Promise<void> {
    requireNonEmpty("key", key);
    requireNonEmpty("field", field);
    requireString("value", value);
    const entry = this.read(key);
    if (entry) hashOf(key, entry).set(field, value);
    else this.write(key, { value: new Map([[field, value]]), expiresAt: undefined });
  }

  async hashGet(key: string, field: string): Promise<string | undefined> {
    requireNonEmpty("key", key);
    requireNonEmpty("field", field);
    const entry = this.read(key);
    return entry && hashOf(key, entry).get(field);
  }

  async hashGetAll(key: string): Promise<ReadonlyMap<string, string>> {
    requireNonEmpty("key", key);
    const entry = this.read(key);
    // A copy, as Redis hands out: later writes must not change a snapshot a caller already holds.
    return new Map(entry && hashOf(key, entry));
  }

  async hashDelete(key: string, field: string): Promise<boolean> {
    requireNonEmpty("key", key);
    requireNonEmpty("field", field);
    const entry = this.read(key);
    if (!entry) return false;
    const hash = hashOf(key, entry);
    const deleted = hash.delete(field);
    // Redis drops a hash with its last field; so does this, or get/increment would then see WRONGTYPE.
    if (hash.size === 0) this.entries.delete(key);
    return deleted;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  private read(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (isExpired(entry, this.now())) return undefined;
    this.entries.set(key, entry);
    return entry;
  }

  private write(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  private expiry(ttlMs: number | undefined): number | undefined {
    return ttlMs === undefined ? undefined : this.now() + ttlMs;
  }

  private remaining(expiresAt: number | undefined): number {
    return expiresAt === undefined ? 0 : Math.max(0, expiresAt - this.now());
  }
}

function isExpired(entry: Entry, now: number): boolean {
  return entry.expiresAt !== undefined && entry.expiresAt <= now;
}

function counterValue(key: string, entry: Entry): number {
  const text = stringOf(key, entry);
  const value = Number(text);
  // Same refusal as Redis INCRBY, so a counter key clobbered by set() fails in both adapters alike.
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new Error(`value at key '${key}' is not an integer`);
  }
  return value;
}

function stringOf(key: string, entry: Entry): string {
  if (typeof entry.value !== "string") throw wrongType(key, "a hash");
  return entry.value;
}

function hashOf(key: string, entry: Entry): Map<string, string> {
  if (typeof entry.value === "string") throw wrongType(key, "a string");
  return entry.value;
}

/** Worded as Redis words it, so callers and tests match one message whichever adapter runs. */
function wrongType(key: string, holds: string): TypeError {
  return new TypeError(
    `WRONGTYPE Operation against a key holding the wrong kind of value ('${key}' holds ${holds})`,
  );
}
