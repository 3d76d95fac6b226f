/**
 * A conversation served within this long is taken to still hold its slot: long enough to cover a
 * person reading an answer and typing the next turn, short enough that a slot nobody returned to is
 * counted free again.
 */
export const HELD_FOR_MS = 60_000;

/**
 * The conversations a node served recently, newest last, for routing's eviction cost: a node whose
 * slots all hold recent conversations evicts one for every new one it takes. Bounded by a few times the
 * node's slots, since only whether they are all held matters.
 */
export class HeldConversations {
  private readonly servedAt = new Map<string, number>();

  constructor(private readonly clock: () => number) {}

  touch(key: string, slots: number): void {
    this.servedAt.delete(key);
    this.servedAt.set(key, this.clock());
    const limit = Math.max(4, slots * 2);
    for (const oldest of this.servedAt.keys()) {
      if (this.servedAt.size <= limit) break;
      this.servedAt.delete(oldest);
    }
  }

  /** Forgets the expired from the oldest end, so a count costs only what expired since the last one. */
  count(): number {
    const cutoff = this.clock() - HELD_FOR_MS;
    for (const [key, at] of this.servedAt) {
      if (at >= cutoff) break;
      this.servedAt.delete(key);
    }
    return this.servedAt.size;
  }
}
