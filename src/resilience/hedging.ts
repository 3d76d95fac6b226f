export interface TtftTrackerOptions {
  /** Samples kept per node (newest win). Default 100. */
  readonly reservoir?: number;
  /** No hedging for a node until it has this many samples. Default 20. */
  readonly minSamples?: number;
  /** The percentile of time to first token after which a hedge is sent. Default 0.95. */
  readonly quantile?: number;
}

/**
 * Per node, the recent times to first token in a fixed ring, and their p95: the point past which a
 * request is slower than that node usually is, and a second request elsewhere is worth its cost.
 */
export class TtftTracker {
  private readonly rings = new Map<string, { samples: number[]; next: number; p95: number | undefined }>();
  private readonly reservoir: number;
  private readonly minSamples: number;
  private readonly quantile: number;

  constructor(options: TtftTrackerOptions = {}) {
    this.reservoir = options.reservoir ?? 100;
    this.minSamples = Math.min(options.minSamples ?? 20, this.reservoir);
    this.quantile = options.quantile ?? 0.95;
  }

  observe(nodeId: string, ttftMs: number): void {
    let ring = this.rings.get(nodeId);
    if (!ring) {
      ring = { samples: [], next: 0, p95: undefined };
      this.rings.set(nodeId, ring);
    }
    ring.samples[ring.next] = ttftMs;
    ring.next = (ring.next + 1) % this.reservoir;
    ring.p95 = undefined;
  }

  /** When to hedge a request on this node, or undefined while too little is known about it. */
  hedgeDelayMs(nodeId: string): number | undefined {
    const ring = this.rings.get(nodeId);
    if (!ring || ring.samples.length < this.minSamples) return undefined;
    ring.p95 ??= quantileOf(ring.samples, this.quantile);
    return ring.p95;
  }

  remove(nodeId: string): void {
    this.rings.delete(nodeId);
  }
}

function quantileOf(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

export interface HedgeOptions<T> {
  /** Asked when the delay passes, so that a hedge spends budget only when it is really sent. */
  readonly shouldHedge?: () => boolean;
  /** Receives a loser's value that arrived anyway (e.g. an opened stream to close). */
  readonly discard?: (value: T) => void;
}

export interface HedgeResult<T> {
  readonly value: T;
  readonly winner: "primary" | "hedge";
}

type Side = "primary" | "hedge";

/**
 * Starts `primary`; if it has not produced after `delayMs`, starts `hedge` too. The first to resolve
 * wins and the other is aborted through the signal it was given. A primary that fails before the
 * delay rejects at once without a hedge: failover, not hedging, deals with failures. When both run
 * and both fail, rejects with the primary's error. `delayMs` undefined means never hedge.
 */
export function raceWithHedge<T>(
  primary: (signal: AbortSignal) => Promise<T>,
  hedge: (signal: AbortSignal) => Promise<T>,
  delayMs: number | undefined,
  signal: AbortSignal,
  options: HedgeOptions<T> = {},
): Promise<HedgeResult<T>> {
  const controllers = { primary: new AbortController(), hedge: new AbortController() };
  const abortBoth = () => {
    controllers.primary.abort(signal.reason);
    controllers.hedge.abort(signal.reason);
  };
  if (signal.aborted) abortBoth();
  else signal.addEventListener("abort", abortBoth, { once: true });

  return new Promise<HedgeResult<T>>((resolve, reject) => {
    let settled = false;
    let running = 0;
    let primaryError: unknown;
    let timer: NodeJS.Timeout | undefined;

    const finish = () => {
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", abortBoth);
    };
    const launch = (side: Side, start: (signal: AbortSignal) => Promise<T>) => {
      running += 1;
      start(controllers[side].signal).then(
        (value) => {
          running -= 1;
          if (settled) {
            options.discard?.(value);
            return;
          }
          finish();
          controllers[side === "primary" ? "hedge" : "primary"].abort(new Error("hedge lost the race"));
          resolve({ value, winner: side });
        },
        (err: unknown) => {
          running -= 1;
          if (side === "primary") primaryError = err;
          if (settled || running > 0) return;
          // A primary failing before the delay ends the race too: the hedge must not start.
          finish();
          reject(primaryError ?? err);
        },
      );
    };

    launch("primary", primary);
    if (delayMs === undefined || signal.aborted) return;
    timer = setTimeout(() => {
      if (settled || signal.aborted || options.shouldHedge?.() === false) return;
      launch("hedge", hedge);
    }, delayMs);
  });
}
