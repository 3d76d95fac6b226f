/**
 * Counters per wall-clock second over a fixed span, kept in a ring: adding is O(1) and the memory is
 * span × fields numbers however much traffic comes. A slot whose second has passed out of the span is
 * zeroed when that slot comes round again, so nothing ever has to sweep.
 */
export class SecondWindow<F extends string> {
  private readonly index: ReadonlyMap<F, number>;
  private readonly counts: Float64Array;
  private readonly seconds: Float64Array;

  constructor(
    fields: readonly F[],
    readonly spanS: number,
  ) {
    this.index = new Map(fields.map((field, i) => [field, i]));
    this.counts = new Float64Array(spanS * fields.length);
    this.seconds = new Float64Array(spanS).fill(-1);
  }

  add(second: number, field: F, amount = 1): void {
    const slot = second % this.spanS;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts.fill(0, slot * this.index.size, (slot + 1) * this.index.size);
    }
    this.counts[slot * this.index.size + this.field(field)]! += amount;
  }

  /** The field's total over the `spanS` seconds that end with `lastSecond`. */
  sum(lastSecond: number, field: F, spanS: number): number {
    let total = 0;
    for (let second = lastSecond - Math.min(spanS, this.spanS) + 1; second <= lastSecond; second++) {
      total += this.at(second, field);
    }
    return total;
  }

  /** The field's totals per `stepS` seconds over the whole span that ends with `lastSecond`, oldest first. */
  series(lastSecond: number, field: F, stepS: number): number[] {
    const steps = Math.floor(this.spanS / stepS);
    return Array.from({ length: steps }, (_, i) =>
      this.sum(lastSecond - (steps - 1 - i) * stepS, field, stepS),
    );
  }

  private at(second: number, field: F): number {
    const slot = second % this.spanS;
    return second >= 0 && this.seconds[slot] === second
      ? this.counts[slot * this.index.size + this.field(field)]!
      : 0;
  }

  private field(field: F): number {
    return this.index.get(field)!;
  }
}
