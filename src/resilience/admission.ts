import { errors } from "../errors.js";

export interface AdmissionOptions {
  /** Waiters held at most; memory stays bounded by this whatever the load. Default 256. */
  readonly maxQueue?: number;
  readonly clock?: () => number;
}

interface Waiter {
  readonly isSaturated: () => boolean;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly cleanup: () => void;
}

const MAX_RETRY_AFTER_SECONDS = 60;
/** Weight of the newest gap between admissions in the drain-rate estimate. */
const DRAIN_ALPHA = 0.2;

/**
 * A bounded FIFO of requests waiting for capacity. A waiter is let through by `notify()`, which the
 * pipeline calls whenever a request finishes (or capacity appears); each call lets at most one
 * waiter through, because the one let through has not yet taken its slot when the next is checked.
 */
export class AdmissionQueue {
  readonly maxQueue: number;
  private readonly waiters: Waiter[] = [];
  private readonly clock: () => number;
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
   * otherwise waits its turn. Rejects with `overloaded` (429: back off now) when the queue is full,
   * with `overloaded_timeout` (503) when `maxWaitMs` passes, both carrying Retry-After, and with the
   * signal's reason when the signal aborts (the waiter leaves at once).
   */
  admit(isSaturated: () => boolean, maxWaitMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (!isSaturated() && !this.waiters.some((w) => !w.isSaturated())) return Promise.resolve();
    if (this.waiters.length >= this.maxQueue) {
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
   * Capacity may have freed up: lets the oldest waiter whose nodes have room through. Waiters whose
   * own nodes are still full are skipped, so one model's overload does not hold up another's.
   */
  notify(): void {
    const index = this.waiters.findIndex((w) => !w.isSaturated());
    if (index === -1) return;
    const [waiter] = this.waiters.splice(index, 1);
    if (!waiter) return;
    waiter.cleanup();
    this.recordAdmission();
    waiter.resolve();
  }

  /** Rejects every waiter (the gateway is shutting down). */
  rejectAll(err: unknown): void {
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(err);
    }
  }

  private remove(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index !== -1) this.waiters.splice(index, 1);
    waiter.cleanup();
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
