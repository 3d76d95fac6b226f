import { mulberry32 } from "../seeded-random.js";
import { fnv1a, type Tokenizer } from "./tokenizer.js";

export function hashTokens(ids: readonly number[], seed: number): number {
  let hash = fnv1a(String(seed));
  for (const id of ids) {
    hash ^= id;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

const SYLLABLES = [
  "la",
  "ro",
  "mi",
  "ten",
  "sa",
  "vor",
  "qui",
  "del",
  "an",
  "po",
  "ri",
  "su",
  "ke",
  "tho",
  "mar",
  "ni",
  "ve",
  "sol",
  "gra",
  "te",
  "lu",
  "bis",
  "or",
  "fen",
];
const MIN_NATURAL_TOKENS = 8;
const NATURAL_TOKEN_SPREAD = 56;

export type FinishReason = "stop" | "length";

export interface GenerationPlan {
  /** The text of each generated token, in order; they concatenate to the completion. */
  pieces: string[];
  ids: number[];
  finishReason: FinishReason;
}

/**
 * What the model "says": pseudo-words drawn from seed and prompt, so a replayed request gets the same
 * answer. The answer has a natural length (8..63 tokens), unless `ignoreEos` asks for all of
 * `limit`; a smaller limit cuts it with "length".
 * `leadingSpace` is false for chat, whose answer starts right after the template's newline.
 */
export function planGeneration(
  tokenizer: Tokenizer,
  promptIds: readonly number[],
  seed: number,
  limit: number,
  leadingSpace: boolean,
  ignoreEos = false,
): GenerationPlan {
  const random = mulberry32(hashTokens(promptIds, seed));
  const drawn = MIN_NATURAL_TOKENS + Math.floor(random() * NATURAL_TOKEN_SPREAD);
  const natural = ignoreEos ? Number.POSITIVE_INFINITY : drawn;
  const target = Math.max(0, Math.min(natural, limit));
  const pieces: string[] = [];
  let sentenceStart = true;
  while (pieces.length < target) {
    const word = pseudoWord(random, sentenceStart);
    const punctuation = random() < 0.12 ? "." : random() < 0.1 ? "," : "";
    const spaced = pieces.length === 0 && !leadingSpace ? word : ` ${word}`;
    for (const piece of tokenizer.pieces(spaced + punctuation)) {
      if (pieces.length === target) break;
      pieces.push(piece);
    }
    sentenceStart = punctuation === ".";
  }
  return {
    pieces,
    ids: pieces.map((piece) => tokenizer.idOf(piece)),
    finishReason: natural <= limit ? "stop" : "length",
  };
}

function pseudoWord(random: () => number, capitalise: boolean): string {
  const count = 1 + Math.floor(random() * 3);
  let word = "";
  for (let i = 0; i < count; i++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)] ?? "";
  return capitalise ? word.charAt(0).toUpperCase() + word.slice(1) : word;
}

/** Width of the sim's embeddings: what /v1/embeddings returns and what rerank scores by. */
const EMBEDDING_DIMS = 64;

/**
 * A deterministic embedding: the normalised sum of one pseudo-random vector per token, so texts that
 * share tokens point in similar directions, as real embeddings roughly do.
 */
export function embed(ids: readonly number[]): number[] {
  const vector = new Array<number>(EMBEDDING_DIMS).fill(0);
  for (const id of ids) {
    const random = mulberry32(id);
    for (let d = 0; d < EMBEDDING_DIMS; d++) vector[d] = (vector[d] ?? 0) + random() * 2 - 1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}
