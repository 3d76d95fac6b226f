import type { HashCounters, SettleRequest, StateStore, WindowAdjustment } from "../store/index.js";

/** Entries past which a batch is sent at once instead of waiting for its timer. */
const MAX_PENDING = 2_000;

/**
 * Settlements gathered for a moment and sent as one: adjustments to one window summed, ledger
 * counters of one minute and field summed, slot releases listed. One store round trip then settles
 * every call that ended in the last `flushMs`, which keeps the per-call cost of quotas and the ledger
 * to the reservation's round trip. A refund or a freed slot reaches the store at most `flushMs` late;
 * `flush()` sends what is pending at once (shutdown).
 */
export class SettleBatch {
  private adjustments = new Map<string, WindowAdjustment>();
  private releases: { key: string; id: string }[] = [];
  private counters = new Map<string, { key: string; ttlMs: number; fields: Map<string, number> }>();
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly flushMs: number,
    private readonly onError: (error: unknown, calls: number) => void,
  ) {}

  add(request: SettleRequest): void {
    for (const adjustment of request.adjustments) {
      const id = `${adjustment.key}#${adjustment.index}`;
      const known = this.adjustments.get(id);
      this.adjustments.set(id, known ? { ...known, delta: known.delta + adjustment.delta } : adjustment);
    }
    this.releases.push(...request.releases);
    for (const counters of request.counters) this.addCounters(counters);
    this.pending += 1;
    if (this.pending >= MAX_PENDING) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === 0) return;
    const calls = this.pending;
    const request: SettleRequest = {
      adjustments: [...this.adjustments.values()].filter((adjustment) => adjustment.delta !== 0),
      releases: this.releases,
      counters: [...this.counters.values()],
    };
    this.adjustments = new Map();
    this.releases = [];
    this.counters = new Map();
    this.pending = 0;
    try {
      await this.store.settleReservation(request);
    } catch (err) {
      this.onError(err, calls);
    }
  }

  private addCounters(counters: HashCounters): void {
    let bucket = this.counters.get(counters.key);
    if (!bucket) {
      bucket = { key: counters.key, ttlMs: counters.ttlMs, fields: new Map() };
      this.counters.set(counters.key, bucket);
    }
    for (const [field, by] of counters.fields) bucket.fields.set(field, (bucket.fields.get(field) ?? 0) + by);
  }
}
