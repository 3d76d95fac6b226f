import type { StateStore } from "../store/index.js";
import type { CacheTiers } from "./tiers.js";

/** What joining a flight came to: lead it (and end it), or the flight is over (look again, or go on). */
export type Joined = { readonly lead: true; end(): Promise<void> } | { readonly lead: false };

const POLL_FIRST_MS = 10;
const POLL_MAX_MS = 100;

/**
 * Single flight: of concurrent identical misses, one (the leader) goes to the fleet; the others wait
 * for it to end, at most `waitMs`, then look in the cache again and, if its answer is not there, go
 * to the fleet themselves. In one process the waiters wait on the leader's promise. Across replicas a
 * lock in the shared store (set only if absent, expiring after `waitMs`) names the leader; one call
 * per replica then polls the store until the entry appears, the lock is gone or the wait is over.
 */
export class SingleFlight {
  private readonly local = new Map<string, Promise<void>>();

  constructor(
    private readonly store: StateStore,
    private readonly tiers: CacheTiers,
    private readonly waitMs: number,
  ) {}

  async join(key: string, signal: AbortSignal): Promise<Joined> {
    const running = this.local.get(key);
    if (running) {
      await bounded(running, this.waitMs, signal);
      return { lead: false };
    }
    let finish = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    this.local.set(key, done);
    const endLocal = () => {
      if (this.local.get(key) === done) this.local.delete(key);
      finish();
    };
    const lock = `${key}:lock`;
    const leads =
      !this.tiers.shared ||
      (await this.tiers.fromStore(() => this.store.setIfAbsent(lock, "1", Math.max(this.waitMs, 1)))) !==
        false;
    if (leads) {
      return {
        lead: true,
        end: async () => {
          if (this.tiers.shared) await this.tiers.fromStore(() => this.store.delete(lock));
          endLocal();
        },
      };
    }
    try {
      await this.awaitRemote(key, lock, signal);
    } finally {
      endLocal();
    }
    return { lead: false };
  }

  /** Another replica leads: wait for its entry, or for its lock to go (it ended without one). */
  private async awaitRemote(key: string, lock: string, signal: AbortSignal): Promise<void> {
    const deadline = performance.now() + this.waitMs;
    let pause = POLL_FIRST_MS;
    while (!signal.aborted && performance.now() < deadline) {
      await sleep(Math.min(pause, deadline - performance.now()), signal);
      pause = Math.min(pause * 2, POLL_MAX_MS);
      const [entry, held] = await Promise.all([
        this.tiers.fromStore(() => this.store.get(key)),
        this.tiers.fromStore(() => this.store.get(lock)),
      ]);
      if (entry !== undefined || held === undefined) return;
    }
  }
}

/** Waits for the promise, at most `ms`, or until the signal aborts; never rejects. */
async function bounded(promise: Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  const stop = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    onAbort = () => resolve();
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([promise, stop]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return bounded(new Promise<void>(() => {}), Math.max(ms, 0), signal);
}
