/**
 * The quota operations of the store port: a reservation against several limits at once, all or
 * nothing, and its settlement. Both run as one atomic step in each adapter (one Lua script in Redis),
 * so replicas sharing a store never admit more than a limit between them.
 */

/** A charge against a sliding window that may hold at most `limit` (requests or tokens). */
export interface WindowCharge {
  /** The window's stem; the adapter appends the window's number. */
  readonly key: string;
  readonly amount: number;
  readonly limit: number;
  readonly windowMs: number;
}

/** A concurrency slot: at most `limit` ids held under `key`; a slot not released expires after `ttlMs`. */
export interface SlotClaim {
  readonly key: string;
  readonly id: string;
  readonly limit: number;
  readonly ttlMs: number;
}

export interface ReserveRequest {
  readonly windows: readonly WindowCharge[];
  readonly slots: readonly SlotClaim[];
}

/** A window as the reservation found it (after its own charge, when admitted). */
export interface WindowReading {
  /** The previous window's total, weighed by `1 - elapsedMs / windowMs` in the sliding sum. */
  readonly previous: number;
  readonly current: number;
  readonly elapsedMs: number;
  /** The number of the window charged, which the settlement adjusts. */
  readonly index: number;
}

export type ReserveResult =
  | { readonly ok: true; readonly windows: readonly WindowReading[]; readonly slotsHeld: readonly number[] }
  | {
      readonly ok: false;
      /** Which charge did not fit: a window's or a slot's position in the request. */
      readonly refused: { readonly kind: "window" | "slot"; readonly index: number };
      readonly windows: readonly WindowReading[];
      readonly slotsHeld: readonly number[];
    };

/** Moves a window's charge by `delta` (a refund when negative), in the window it was made in. */
export interface WindowAdjustment {
  readonly key: string;
  readonly index: number;
  readonly windowMs: number;
  readonly delta: number;
}

/** Adds to numeric fields of a hash (the usage ledger's minute buckets). */
export interface HashCounters {
  readonly key: string;
  readonly fields: ReadonlyMap<string, number>;
  readonly ttlMs: number;
}

export interface SettleRequest {
  readonly adjustments: readonly WindowAdjustment[];
  readonly releases: readonly { readonly key: string; readonly id: string }[];
  readonly counters: readonly HashCounters[];
}

/**
 * The sliding sum a window's reading stands for: the previous window weighed by what still overlaps,
 * rounded up, so that a limit of 1 used just before an edge is not free again just after it.
 */
export function slidingUse(reading: WindowReading, windowMs: number): number {
  return Math.ceil(reading.previous * (1 - reading.elapsedMs / windowMs)) + reading.current;
}

/**
 * How long until `amount` more would fit under `limit`, if nothing else were charged meanwhile;
 * undefined when it never can (the amount alone is over the limit).
 */
export function msUntilFits(
  reading: WindowReading,
  windowMs: number,
  amount: number,
  limit: number,
): number | undefined {
  if (amount > limit) return undefined;
  const room = limit - amount - reading.current;
  if (room >= 0) {
    if (reading.previous === 0) return 0;
    // ⌈previous × (1 − (elapsed + t) / window)⌉ ≤ room
    return Math.max(0, Math.ceil(windowMs * (1 - room / reading.previous) - reading.elapsedMs));
  }
  // Only once this window is the previous one can enough of it have slid away.
  const rest = windowMs - reading.elapsedMs;
  return rest + Math.ceil(windowMs * (1 - (limit - amount) / reading.current));
}

/** Checks shared by both adapters, so a bad request fails alike whichever store runs. */
export function requireReserveRequest(request: ReserveRequest): void {
  for (const charge of request.windows) {
    if (!Number.isSafeInteger(charge.amount) || charge.amount < 0) {
      throw new RangeError(`window charge amount must be a non-negative integer, got ${charge.amount}`);
    }
    if (!Number.isSafeInteger(charge.limit))
      throw new RangeError(`window limit must be an integer, got ${charge.limit}`);
    if (!Number.isSafeInteger(charge.windowMs) || charge.windowMs <= 0) {
      throw new RangeError(`windowMs must be a positive integer, got ${charge.windowMs}`);
    }
  }
  for (const slot of request.slots) {
    if (!slot.id) throw new TypeError("slot id must be a non-empty string");
    if (!Number.isSafeInteger(slot.ttlMs) || slot.ttlMs <= 0) {
      throw new RangeError(`slot ttlMs must be a positive integer, got ${slot.ttlMs}`);
    }
  }
}
