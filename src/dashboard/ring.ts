/** The last `capacity` items pushed; older ones are overwritten, so memory stays fixed. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Newest first. */
  newest(): T[] {
    return Array.from(
      { length: this.size },
      (_, i) => this.items[(this.next - 1 - i + this.capacity) % this.capacity]!,
    );
  }
}

/** Nearest-rank percentiles (q in 0..1) of the values; undefined when there are none. */
export function percentiles(values: readonly number[], qs: readonly number[]): (number | undefined)[] {
  const sorted = [...values].sort((a, b) => a - b);
  return qs.map((q) =>
    sorted.length === 0 ? undefined : sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)],
  );
}
