export interface RetryBudgetSettings {
  /** Retries allowed per request in the window (0.2: one retry for every five requests). */
  readonly ratio: number;
  /** A floor so that a quiet gateway can still retry: this many per second of window. */
  readonly minRetriesPerSecond: number;
  readonly windowMs: number;
  readonly buckets: number;
}

export const DEFAULT_RETRY_BUDGET: Readonly<RetryBudgetSettings> = Object.freeze({
  ratio: 0.2,
  minRetriesPerSecond: 10,
  windowMs: 10_000,
  buckets: 10,
});

/**
 * A fleet-wide budget for retries (and hedges), in the manner of Finagle's and Envoy's: while the
 * fleet is healthy few requests need a retry and all get one; when every node fails, retries stay a
 * fixed share of traffic instead of multiplying it. Counters live in a fixed ring of time buckets.
 */
export class RetryBudget {
  readonly settings: Readonly<RetryBudgetSettings>;
  private readonly requests: number[];
  private readonly retries: number[];
  private readonly bucketMs: number;
  private readonly clock: () => number;
  /** Index (time / bucketMs) of the newest bucket. */
  private head: number;

  constructor(settings: Partial<RetryBudgetSettings> = {}, clock: () => number = Date.now) {
    this.settings = Object.freeze({ ...DEFAULT_RETRY_BUDGET, ...settings });
    this.clock = clock;
    this.bucketMs = this.settings.windowMs / this.settings.buckets;
    this.requests = new Array<number>(this.settings.buckets).fill(0);
    this.retries = new Array<number>(this.settings.buckets).fill(0);
    this.head = Math.floor(clock() / this.bucketMs);
  }

  /** Once per client request, not per attempt: retries are measured against what clients asked. */
  recordRequest(): void {
    this.requests[this.advance()]! += 1;
  }

  /** Spends one retry if the budget allows it; false means fail now rather than try another node. */
  tryAcquireRetry(): boolean {
    const index = this.advance();
    if (this.retriesInWindow() + 1 > this.allowance()) return false;
    this.retries[index]! += 1;
    return true;
  }

  /** Retries the window still allows, for telemetry and /admin. */
  available(): number {
    this.advance();
    return Math.max(0, Math.floor(this.allowance() - this.retriesInWindow()));
  }

  private allowance(): number {
    const requests = this.requests.reduce((sum, n) => sum + n, 0);
    const floor = this.settings.minRetriesPerSecond * (this.settings.windowMs / 1000);
    return this.settings.ratio * requests + floor;
  }

  private retriesInWindow(): number {
    return this.retries.reduce((sum, n) => sum + n, 0);
  }

  /** Clears the buckets time has left behind; returns the slot of the current one. */
  private advance(): number {
    const now = Math.floor(this.clock() / this.bucketMs);
    const stale = Math.min(now - this.head, this.settings.buckets);
    for (let i = 1; i <= stale; i++) {
      const slot = this.slotOf(this.head + i);
      this.requests[slot] = 0;
      this.retries[slot] = 0;
    }
    if (now > this.head) this.head = now;
    return this.slotOf(this.head);
  }

  private slotOf(index: number): number {
    const n = this.settings.buckets;
    return ((index % n) + n) % n;
  }
}
