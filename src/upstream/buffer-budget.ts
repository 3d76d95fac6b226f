/** One response's share of the budget, held while its bytes are buffered. */
export interface BufferLease {
  /** Takes `bytes` more; false when this response was evicted to make room (it must stop). */
  grow(bytes: number): boolean;
  /** Gives back whatever the lease holds; safe to call twice. */
  release(): void;
}

interface Holder {
  size: number;
  readonly evict: (detail: string) => void;
}

/**
 * A global bound on the response bytes the gateway holds in memory for all calls at once (whole
 * non-streamed answers are buffered before they are checked and sent). When a response's next
 * chunk would overflow it, the largest buffered responses are evicted until it fits: the node
 * sending the most pays, not whichever small answer happened to arrive last. An evicted response
 * fails as its node's fault; nobody waits, so a flood cannot hold innocent calls up either.
 */
export class BufferBudget {
  private readonly holders = new Set<Holder>();
  private used = 0;

  constructor(readonly limitBytes: number) {}

  /** Opens a lease; `evict` is told why when the lease is taken away to make room for others. */
  open(evict: (detail: string) => void): BufferLease {
    const holder: Holder = { size: 0, evict };
    this.holders.add(holder);
    return {
      grow: (bytes) => this.grow(holder, bytes),
      release: () => this.drop(holder),
    };
  }

  private grow(holder: Holder, bytes: number): boolean {
    if (!this.holders.has(holder)) return false;
    while (this.used + bytes > this.limitBytes) {
      const largest = this.largest();
      if (!largest || largest === holder || largest.size < holder.size + bytes) {
        this.drop(holder);
        return false;
      }
      this.drop(largest);
      largest.evict(`the gateway's buffer budget of ${this.limitBytes} bytes is taken by larger responses`);
    }
    holder.size += bytes;
    this.used += bytes;
    return true;
  }

  private largest(): Holder | undefined {
    let largest: Holder | undefined;
    for (const holder of this.holders) if (!largest || holder.size > largest.size) largest = holder;
    return largest;
  }

  private drop(holder: Holder): void {
    if (!this.holders.delete(holder)) return;
    this.used -= holder.size;
    holder.size = 0;
  }
}
