import { DecayingAverage } from "./stats.js";

/**
 * A conversation served within this long may still hold its slot; older ones are forgotten, so the
 * record stays small.
 */
export const HELD_FOR_MS = 60_000;

/** Gap between a conversation's turns assumed before any returned: a person reading and typing. */
const DEFAULT_TURN_GAP_MS = 10_000;
const MIN_TURN_GAP_MS = 100;
const GAP_HALF_LIFE_MS = 60_000;
/**
 * A conversation silent for this many typical gaps has likely ended: the chance it comes back fades
 * as exp(-silence / (patience × gap)).
 */
const RETURN_PATIENCE = 2;

/**
 * The conversations a node served recently, newest last, for routing's eviction cost. A request that
 * needs a slot on a node whose slots all hold conversations takes the least recently used one (as
 * llama-server does); what that costs depends on whether its conversation comes back, which is judged
 * by how long it has been silent against the gap this node's conversations leave between turns.
 * Bounded by a few times the node's slots.
 */
export class HeldConversations {
  private readonly servedAt = new Map<string, number>();
  private readonly gaps = new DecayingAverage(GAP_HALF_LIFE_MS);

  constructor(private readonly clock: () => number) {}

  touch(key: string, slots: number): void {
    const now = this.clock();
    const previous = this.servedAt.get(key);
    if (previous !== undefined) this.gaps.observe(now - previous, now);
    this.servedAt.delete(key);
    this.servedAt.set(key, now);
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

  /**
   * The chance, 0..1, that a new conversation on this node evicts one that comes back: 0 while a slot
   * holds none of the recent ones, else fading with the silence of the least recent of the `slots`
   * newest (the one in the slot that would be reused).
   */
  evictionRisk(slots: number): number {
    const held = this.count();
    if (held < slots) return 0;
    let skip = held - slots;
    let leastRecent = 0;
    for (const at of this.servedAt.values()) {
      if (skip-- === 0) {
        leastRecent = at;
        break;
      }
    }
    // A floor, since a burst of one conversation's requests can make the learned gap ~0.
    const gap = Math.max(MIN_TURN_GAP_MS, this.gaps.value ?? DEFAULT_TURN_GAP_MS);
    return Math.exp(-(this.clock() - leastRecent) / (RETURN_PATIENCE * gap));
  }
}
