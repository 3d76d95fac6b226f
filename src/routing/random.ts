import { mulberry32 } from "../seeded-random.js";
import type { RandomSource } from "./types.js";

/** A seeded source, so that tests and benchmarks replay routing decisions exactly. */
export function createRandom(seed: number): RandomSource {
  return mulberry32(seed);
}

/** A uniform integer in [0, n). */
export function randomIndex(random: RandomSource, n: number): number {
  // Clamp guards against a source that returns exactly 1.
  return Math.min(n - 1, Math.floor(random() * n));
}
