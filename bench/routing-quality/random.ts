import { createRandom, type RandomSource } from "../../src/routing/index.js";

export type { RandomSource };

/** Every stream of randomness in a run derives from one seed, so each policy sees the same workload. */
export function seeded(seed: number, stream: number): RandomSource {
  // Mixing the stream in keeps e.g. arrival times independent of prompt texts under the same seed.
  return createRandom(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35));
}

/** Exponential gaps give Poisson arrivals: open-loop load that does not slow down when the fleet does. */
export function exponential(random: RandomSource, meanMs: number): number {
  return -Math.log(1 - random()) * meanMs;
}

export function uniformInt(random: RandomSource, min: number, max: number): number {
  return min + Math.min(max - min, Math.floor(random() * (max - min + 1)));
}

/** Arrival offsets (ms) of a Poisson process at `ratePerSec` within [0, durationMs). */
export function poissonArrivals(random: RandomSource, ratePerSec: number, durationMs: number): number[] {
  const times: number[] = [];
  for (
    let t = exponential(random, 1000 / ratePerSec);
    t < durationMs;
    t += exponential(random, 1000 / ratePerSec)
  ) {
    times.push(t);
  }
  return times;
}

const SYLLABLES = [
  "ka",
  "lo",
  "mer",
  "ti",
  "san",
  "vu",
  "el",
  "dor",
  "pi",
  "ran",
  "sho",
  "be",
  "qua",
  "ni",
  "tor",
];

/**
 * Pseudo-English of `words` words. Word lengths of 2..9 letters make roughly 1.5 tokens per word on the
 * sim's tokenizer (pieces of at most four characters), and about as many on a real BPE vocabulary.
 */
export function prose(random: RandomSource, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    let word = "";
    const syllables = 1 + Math.floor(random() * 3);
    for (let s = 0; s < syllables; s++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    out.push(random() < 0.08 ? `${word}.` : word);
  }
  return out.join(" ");
}
