/**
 * llama-server's slots: N parallel sequences, each keeping the tokens of its last request in its KV
 * cache. A request takes the idle slot whose cache shares the largest part of its prompt (above the
 * server's default --slot-prompt-similarity of 0.1), else the least recently used one; when none is
 * idle it waits in a FIFO queue (`requests_deferred`).
 */
const SLOT_PROMPT_SIMILARITY = 0.1;

export interface SlotTask {
  idTask: number;
  nPredict: number;
  nDecoded: number;
  /** Prompt size, the part reused from the slot's cache, and the part evaluated so far. */
  nPromptTokens: number;
  nPromptTokensCache: number;
  nPromptTokensProcessed: number;
  stream: boolean;
  seed: number;
}

export interface Slot {
  readonly id: number;
  cachedTokens: readonly number[];
  lastUsed: number;
  task: SlotTask | null;
}

export interface SlotLease {
  readonly slot: Slot;
  /** Prompt tokens reused from the slot's cache (never the whole prompt: the last one is re-evaluated). */
  readonly cacheN: number;
  /** Frees the slot, leaving `cachedTokens` in its cache for the next request. */
  release(cachedTokens: readonly number[]): void;
}

interface Waiter {
  prompt: readonly number[];
  usePromptCache: boolean;
  task: SlotTask;
  resolve(lease: SlotLease): void;
}

export class SlotPool {
  readonly slots: Slot[];
  private readonly queue: Waiter[] = [];
  private useClock = 0;

  constructor(count: number) {
    this.slots = Array.from({ length: count }, (_, id) => ({
      id,
      cachedTokens: [],
      lastUsed: 0,
      task: null,
    }));
  }

  get busy(): number {
    return this.slots.filter((slot) => slot.task !== null).length;
  }

  get deferred(): number {
    return this.queue.length;
  }

  /** Resolves when a slot is assigned; rejects with the signal's reason if the caller gives up first. */
  acquire(
    prompt: readonly number[],
    usePromptCache: boolean,
    task: SlotTask,
    signal: AbortSignal,
  ): Promise<SlotLease> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const waiter: Waiter = { prompt, usePromptCache, task, resolve };
      const onAbort = (): void => {
        const index = this.queue.indexOf(waiter);
        if (index !== -1) this.queue.splice(index, 1);
        reject(signal.reason);
      };
      waiter.resolve = (lease) => {
        signal.removeEventListener("abort", onAbort);
        resolve(lease);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (;;) {
      const idle = this.slots.filter((slot) => slot.task === null);
      const waiter = idle.length > 0 ? this.queue.shift() : undefined;
      if (!waiter) return;
      const { slot, commonPrefix } = pickSlot(idle, waiter.prompt, waiter.usePromptCache);
      slot.task = waiter.task;
      slot.lastUsed = ++this.useClock;
      const cacheN = waiter.usePromptCache ? Math.min(commonPrefix, waiter.prompt.length - 1) : 0;
      waiter.resolve({ slot, cacheN: Math.max(0, cacheN), release: (cached) => this.release(slot, cached) });
    }
  }

  private release(slot: Slot, cachedTokens: readonly number[]): void {
    if (slot.task === null) return;
    slot.task = null;
    slot.cachedTokens = cachedTokens;
    this.dispatch();
  }
}

function pickSlot(
  idle: Slot[],
  prompt: readonly number[],
  usePromptCache: boolean,
): { slot: Slot; commonPrefix: number } {
  let best: { slot: Slot; commonPrefix: number } | undefined;
  if (usePromptCache && prompt.length > 0) {
    for (const slot of idle) {
      const commonPrefix = commonPrefixLength(slot.cachedTokens, prompt);
      if (commonPrefix / prompt.length <= SLOT_PROMPT_SIMILARITY) continue;
      if (!best || commonPrefix > best.commonPrefix) best = { slot, commonPrefix };
    }
  }
  if (best) return best;
  const lru = idle.reduce((oldest, slot) => (slot.lastUsed < oldest.lastUsed ? slot : oldest));
  return { slot: lru, commonPrefix: commonPrefixLength(lru.cachedTokens, prompt) };
}

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a[i] === b[i]) i++;
  return i;
}
