import { LRUCache } from "lru-cache";
import type { StateStore } from "../store/index.js";

export interface TierSettings {
  readonly memoryBytes: number;
  readonly maxEntryBytes: number;
  readonly ttlMs: number;
  /** How long the cache stays in memory only after the store failed. */
  readonly storeRetryMs: number;
}

/** What the cache tells operators about; metrics count these. */
export interface CacheEvents {
  /** An answer was stored. */
  fill(): void;
  /** An operation ran from memory only because the shared store failed (or recently had). */
  storeFallback(): void;
}

/**
 * Two tiers of stored answers: an LRU in this process bounded by bytes, and behind it the shared
 * store (Redis), which every replica reads and writes. With the embedded memory store there is no
 * second process to share with, so memory is the only tier. When the shared store fails, the cache
 * keeps serving from memory alone for `storeRetryMs`, and each such operation is counted.
 */
export class CacheTiers {
  private readonly memory: LRUCache<string, string>;
  private storeDownUntil = 0;

  constructor(
    private readonly store: StateStore,
    private readonly settings: TierSettings,
    private readonly events: CacheEvents,
    private readonly clock: () => number,
  ) {
    this.memory = new LRUCache<string, string>({
      maxSize: settings.memoryBytes,
      maxEntrySize: settings.maxEntryBytes,
      sizeCalculation: (value, key) => Buffer.byteLength(value) + Buffer.byteLength(key),
      ttl: settings.ttlMs,
    });
  }

  /** Bytes the in-process tier holds now (what `memoryBytes` bounds). */
  get memoryBytes(): number {
    return this.memory.calculatedSize;
  }

  /** Whether replicas share entries (and single flight) through the store. */
  get shared(): boolean {
    return this.store.kind !== "memory";
  }

  /** The entry from memory, else from the store (then kept in memory for the rest of its life). */
  async get(key: string, ttlLeftMs: (text: string) => number | undefined): Promise<string | undefined> {
    const local = this.memory.get(key);
    if (local !== undefined || !this.shared) return local;
    const remote = await this.fromStore(() => this.store.get(key));
    if (remote === undefined) return undefined;
    const left = ttlLeftMs(remote);
    if (left === undefined || left <= 0) return undefined;
    this.memory.set(key, remote, { ttl: left });
    return remote;
  }

  async set(key: string, text: string): Promise<void> {
    if (Buffer.byteLength(text) > this.settings.maxEntryBytes) return;
    this.memory.set(key, text);
    this.events.fill();
    if (this.shared) await this.fromStore(() => this.store.set(key, text, this.settings.ttlMs));
  }

  /**
   * Runs a store operation unless the store failed recently; a failure (or a skip) is a fallback to
   * memory only, counted, and answers undefined.
   */
  async fromStore<T>(operation: () => Promise<T>): Promise<T | undefined> {
    if (this.clock() < this.storeDownUntil) {
      this.events.storeFallback();
      return undefined;
    }
    try {
      return await operation();
    } catch {
      this.storeDownUntil = this.clock() + this.settings.storeRetryMs;
      this.events.storeFallback();
      return undefined;
    }
  }
}
