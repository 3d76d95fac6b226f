import type { RandomSource } from "./types.js";

/**
 * mulberry32: a tiny, fast 32-bit generator. Good enough to spread load and to make tests and benchmarks
 * replay exactly; not for anything secret.
 */
export function createRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n). */
export function randomIndex(random: RandomSource, n: number): number {
  // Clamp guards against a source that returns exactly 1.
  return Math.min(n - 1, Math.floor(random() * n));
}
