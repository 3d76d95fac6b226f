/**
 * A deterministic stand-in for a real vocabulary: text splits into words (with their leading spaces),
 * punctuation runs, whitespace runs and newlines, each cut into pieces of at most four characters (plus
 * a word's leading space).
 * Newlines and the chat template's markers are always pieces of their own, so tokenizing a rendered
 * conversation gives the previous turn's prompt tokens as a prefix, which is what the slot cache needs.
 */
export const IM_START = "<|im_start|>";
export const IM_END = "<|im_end|>";

const SPECIAL_IDS = new Map<string, number>([
  [IM_START, 1],
  [IM_END, 2],
]);
const SPECIAL_SPLIT = /(<\|im_start\|>|<\|im_end\|>)/;
const PIECE_RUNS = /\n|[^\S\n]*[\p{L}\p{N}]+|[^\S\n]*[^\s\p{L}\p{N}]+|[^\S\n]+/gu;
const MAX_PIECE_CHARS = 4;
const FIRST_PLAIN_ID = 256;
const PLAIN_ID_SPAN = 2 ** 31 - FIRST_PLAIN_ID;
/** Detokenizing needs the text behind a hashed id; cap the table so a long benchmark cannot grow it forever. */
const MAX_REMEMBERED_PIECES = 200_000;

export interface TokenPiece {
  id: number;
  piece: string;
}

export class Tokenizer {
  private readonly pieceById = new Map<number, string>();

  constructor() {
    for (const [piece, id] of SPECIAL_IDS) this.pieceById.set(id, piece);
  }

  /** The text cut into pieces, without ids. */
  pieces(text: string): string[] {
    const out: string[] = [];
    for (const part of text.split(SPECIAL_SPLIT)) {
      if (part === "") continue;
      if (SPECIAL_IDS.has(part)) {
        out.push(part);
        continue;
      }
      for (const run of part.match(PIECE_RUNS) ?? []) {
        const chars = Array.from(run);
        // A word's single leading space rides along for free, as in BPE vocabularies (" word").
        let start = 0;
        let end = MAX_PIECE_CHARS + (chars[0] === " " && chars[1] !== " " ? 1 : 0);
        while (start < chars.length) {
          out.push(chars.slice(start, end).join(""));
          start = end;
          end += MAX_PIECE_CHARS;
        }
      }
    }
    return out;
  }

  idOf(piece: string): number {
    const special = SPECIAL_IDS.get(piece);
    if (special !== undefined) return special;
    const id = FIRST_PLAIN_ID + (fnv1a(piece) % PLAIN_ID_SPAN);
    if (!this.pieceById.has(id)) {
      if (this.pieceById.size >= MAX_REMEMBERED_PIECES) this.forgetPlainPieces();
      this.pieceById.set(id, piece);
    }
    return id;
  }

  tokenize(text: string): number[] {
    return this.pieces(text).map((piece) => this.idOf(piece));
  }

  tokenizeWithPieces(text: string): TokenPiece[] {
    return this.pieces(text).map((piece) => ({ id: this.idOf(piece), piece }));
  }

  /** Ids this tokenizer never produced (or has forgotten) come back as nothing, like unknown bytes. */
  detokenize(ids: readonly number[]): string {
    return ids.map((id) => this.pieceById.get(id) ?? "").join("");
  }

  private forgetPlainPieces(): void {
    this.pieceById.clear();
    for (const [piece, id] of SPECIAL_IDS) this.pieceById.set(id, piece);
  }
}

/** 32-bit FNV-1a over UTF-16 code units: fast, stable across processes, good enough spread for ids. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
