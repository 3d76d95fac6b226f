/** Percentiles and the median-with-spread summary every reported figure uses. */

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** Latency samples kept in a typed array so that millions of them stay cheap to record. */
export class Samples {
  private values: Float64Array;
  private size = 0;

  constructor(capacity = 1024) {
    this.values = new Float64Array(capacity);
  }

  add(value: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = value;
  }

  get count(): number {
    return this.size;
  }

  percentiles(...ps: number[]): number[] {
    const sorted = this.values.slice(0, this.size).sort();
    return ps.map((p) => percentile(sorted, p));
  }
}

/** A figure measured over several repetitions. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: readonly number[];
}

export function spread(runs: readonly number[]): Spread {
  const finite = runs.filter(Number.isFinite);
  const sorted = [...finite].sort((a, b) => a - b);
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, runs };
}
