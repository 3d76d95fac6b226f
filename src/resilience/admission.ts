import { errors } from "../errors.js";

export interface AdmissionOptions {
  /** Waiters held at most; memory stays bounded by this whatever the load. Default 256. */
  readonly maxQueue?: number;
  readonly clock?: () => number;
}

interface Waiter {
  /** Whose share of the queue this waiter takes (an API key, or a client address). */
  readonly owner: string;
  /** The owner's turn in virtual time: a waiter's turn comes after its owner's previous one. */
  readonly turn: number;
  readonly isSaturated: () => boolean;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly cleanup: () => void;
}

interface OwnerState {
  waiting: number;
  lastTurn: number;
}

const MAX_RETRY_AFTER_SECONDS = 60;
/** Weight of the newest gap between admissions in the drain-rate estimate. */
const DRAIN_ALPHA = 0.2;

/**
 * A bounded queue of requests waiting for capacity, shared fairly between owners (API keys, or
 * client addresses on an open gateway), so that one client's flood cannot lock everyone else out:
 * - room: an owner alone may fill the queue, but when it is full a newcomer whose owner holds at
 *   least two places fewer than the largest owner takes the largest owner's newest place (that
 *   waiter gets `overloaded`); so under contention every owner keeps about an equal share;
 * - order: waiters are let through by turn (start-time fair queueing): an owner's next waiter has
 *   the turn after its previous one, and a newcomer's turn is now, so owners alternate instead of
 *   one owner's backlog going first. One owner's waiters keep their FIFO order.
 * A waiter is let through by `notify()`, which the pipeline calls whenever a request finishes (or
 * capacity appears); each call lets at most one waiter through, because the one let through has not
 * yet taken its slot when the next is checked.
 */
export class AdmissionQueue {
  readonly maxQueue: number;
  private readonly waiters: Waiter[] = [];
  private readonly owners = new Map<string, OwnerState>();
  private readonly clock: () => number;
  /** The turn of the waiter let through last. */
  private now = 0;
  private lastAdmittedAt: number | undefined;
  private drainIntervalMs: number | undefined;

  constructor(options: AdmissionOptions = {}) {
    this.maxQueue = options.maxQueue ?? 256;
    this.clock = options.clock ?? Date.now;
  }

  get length(): number {
    return this.waiters.length;
  }

  /**
   * Resolves at once when the request's nodes have capacity and nobody queued earlier could use it;
   * otherwise waits its turn. Rejects with `overloaded` (429: back off now) when the queue is full
   * and the owner already has its share (or loses its place to an owner with less), with
   * `overloaded_timeout` (503) when `maxWaitMs` passes, both carrying Retry-After, and with the
   * signal's reason when the signal aborts (the waiter leaves at once).
   */
  admit(isSaturated: () => boolean, maxWaitMs: number, signal: AbortSignal, owner: string): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (!isSaturated() && !this.waiters.some((w) => !w.isSaturated())) return Promise.resolve();
    if (this.waiters.length >= this.maxQueue && !this.makeRoomFor(owner)) {
      return Promise.reject(errors.overloaded(this.retryAfterSeconds()));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.remove(waiter);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        this.remove(waiter);
        reject(errors.overloadedTimeout(this.retryAfterSeconds()));
      }, maxWaitMs);
      const waiter: Waiter = {
        owner,
        turn: this.nextTurn(owner),
        isSaturated,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * Capacity may have freed up: lets through the waiter with the earliest turn whose nodes have
   * room. Waiters whose own nodes are still full are skipped, so one model's overload does not hold
   * up another's.
   */
  notify(): void {
    let next: Waiter | undefined;
    for (const waiter of this.waiters) {
      if ((next === undefined || waiter.turn < next.turn) && !waiter.isSaturated()) next = waiter;
    }
    if (!next) return;
    this.remove(next);
    this.now = Math.max(this.now, next.turn);
    this.recordAdmission();
    next.resolve();
  }

  /** Rejects every waiter (the gateway is shutting down). */
  rejectAll(err: unknown): void {
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(err);
    }
    this.owners.clear();
  }

  private nextTurn(owner: string): number {
    const state = this.owners.get(owner) ?? { waiting: 0, lastTurn: 0 };
    state.waiting += 1;
    state.lastTurn = Math.max(this.now, state.lastTurn) + 1;
    this.owners.set(owner, state);
    return state.lastTurn;
  }

  /** Frees the largest owner's newest place for `owner`, when that owner holds at least two more. */
  private makeRoomFor(owner: string): boolean {
    const mine = this.owners.get(owner)?.waiting ?? 0;
    let largest: string | undefined;
    let most = mine + 1;
    for (const [other, state] of this.owners) {
      if (state.waiting > most) {
        largest = other;
        most = state.waiting;
      }
    }
    const victim = largest === undefined ? undefined : this.waiters.findLast((w) => w.owner === largest);
    if (!victim) return false;
    this.remove(victim);
    victim.reject(errors.overloaded(this.retryAfterSeconds()));
    return true;
  }

  private remove(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index === -1) return;
    this.waiters.splice(index, 1);
    waiter.cleanup();
    const state = this.owners.get(waiter.owner);
    if (state && --state.waiting === 0) this.owners.delete(waiter.owner);
  }

  private recordAdmission(): void {
    const now = this.clock();
    if (this.lastAdmittedAt !== undefined) {
      const gap = now - this.lastAdmittedAt;
      this.drainIntervalMs =
        this.drainIntervalMs === undefined
          ? gap
          : this.drainIntervalMs + DRAIN_ALPHA * (gap - this.drainIntervalMs);
    }
    this.lastAdmittedAt = now;
  }

  /** How long until the queue as it stands would have drained, at the pace it has been draining. */
  private retryAfterSeconds(): number {
    if (this.drainIntervalMs === undefined) return 1;
    const seconds = Math.ceil(((this.waiters.length + 1) * this.drainIntervalMs) / 1000);
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, seconds));
  }
}
