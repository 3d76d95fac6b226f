/**
 * Time-aware moving averages. Samples far apart in time weigh more than samples in a burst, and an
 * error rate fades when nothing new is observed, so a node that recovers is seen to recover.
 */
export class DecayingAverage {
  private current: number | undefined;
  private lastAt = 0;

  constructor(private readonly halfLifeMs: number) {}

  observe(sample: number, now: number): void {
    if (this.current === undefined) {
      this.current = sample;
    } else {
      const weight = 1 - 2 ** (-Math.max(0, now - this.lastAt) / this.halfLifeMs);
      // A floor keeps bursts (dt ≈ 0) from being ignored entirely.
      const alpha = Math.max(weight, 0.1);
      this.current += alpha * (sample - this.current);
    }
    this.lastAt = now;
  }

  get value(): number | undefined {
    return this.current;
  }
}

/** Share of failures among recent outcomes; fades toward 0 with the half-life while the node is idle. */
export class DecayingRate {
  private rate = 0;
  private lastAt = 0;

  constructor(private readonly halfLifeMs: number) {}

  observe(failed: boolean, now: number): void {
    this.rate = this.valueAt(now);
    this.rate += 0.2 * ((failed ? 1 : 0) - this.rate);
    this.lastAt = now;
  }

  valueAt(now: number): number {
    if (this.rate === 0) return 0;
    return this.rate * 2 ** (-Math.max(0, now - this.lastAt) / this.halfLifeMs);
  }
}
