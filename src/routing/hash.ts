/**
 * Fast non-cryptographic hashes, pure TypeScript. Keys are not secret and collisions only cost a cache
 * miss, so speed and stability across processes matter more than strength.
 */

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;
const TWO_TO_32 = 4294967296;

/** 32-bit FNV-1a over UTF-16 code units. */
export function fnv1a32(text: string): number {
  let h = FNV32_OFFSET;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), FNV32_PRIME);
  }
  return h >>> 0;
}

/** murmur3's finaliser: a bijection with full avalanche, so `mix32(a ^ b)` is a fair rendezvous weight. */
export function mix32(x: number): number {
  let h = x;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Incremental 64-bit FNV-1a over UTF-16 code units (identical to byte-wise FNV-1a for ASCII), kept as two
 * 32-bit halves because BigInt arithmetic is an order of magnitude slower.
 */
export class Fnv1a64 {
  private hi = 0xcbf29ce4;
  private lo = 0x84222325;

  update(text: string, maxUnits: number = text.length): void {
    const end = Math.min(text.length, maxUnits);
    for (let i = 0; i < end; i++) this.step(text.charCodeAt(i));
  }

  /** The prime is 2^40 + 0x1b3: multiply both halves by 0x1b3 and add lo << 8 into hi. */
  private step(unit: number): void {
    const lo = (this.lo ^ unit) >>> 0;
    const product = lo * 0x1b3; // below 2^41, exact in a double
    const carry = Math.floor(product / TWO_TO_32);
    this.hi = (Math.imul(this.hi, 0x1b3) + (lo << 8) + carry) >>> 0;
    this.lo = product >>> 0;
  }

  hex(): string {
    return this.hi.toString(16).padStart(8, "0") + this.lo.toString(16).padStart(8, "0");
  }
}
