import {
  type ReserveRequest,
  type ReserveResult,
  requireReserveRequest,
  type SettleRequest,
  slidingUse,
  type WindowReading,
} from "./quota.js";

/** The memory store's cells as the quota operations use them; every call runs synchronously. */
export interface QuotaCells {
  now(): number;
  counter(key: string): number;
  /** Adds to a counter; a new counter expires after `ttlMs`, an existing one keeps its expiry. */
  add(key: string, by: number, ttlMs: number): void;
  /** A hash's fields, created empty (with `ttlMs`) when absent when `create` is set. */
  hash(key: string, create?: { readonly ttlMs: number }): Map<string, string> | undefined;
  /** Extends a key's life to at least `ttlMs` from now. */
  keepFor(key: string, ttlMs: number): void;
}

/** The memory adapter's reserve: the same contract as the Redis script, atomic by running to completion. */
export function reserveIn(cells: QuotaCells, request: ReserveRequest): ReserveResult {
  requireReserveRequest(request);
  const now = cells.now();
  const windows: WindowReading[] = request.windows.map((charge) => {
    const index = Math.floor(now / charge.windowMs);
    return {
      previous: cells.counter(`${charge.key}:${index - 1}`),
      current: cells.counter(`${charge.key}:${index}`),
      elapsedMs: now - index * charge.windowMs,
      index,
    };
  });
  const slotsHeld = request.slots.map((slot) => livingSlots(cells, slot.key, now));
  const refusedWindow = request.windows.findIndex(
    (charge, i) => slidingUse(windows[i] as WindowReading, charge.windowMs) + charge.amount > charge.limit,
  );
  if (refusedWindow >= 0)
    return { ok: false, refused: { kind: "window", index: refusedWindow }, windows, slotsHeld };
  const refusedSlot = request.slots.findIndex((slot, i) => (slotsHeld[i] as number) >= slot.limit);
  if (refusedSlot >= 0)
    return { ok: false, refused: { kind: "slot", index: refusedSlot }, windows, slotsHeld };
  request.windows.forEach((charge, i) => {
    const reading = windows[i] as WindowReading;
    // Kept two windows: the next window still weighs this one.
    cells.add(`${charge.key}:${reading.index}`, charge.amount, 2 * charge.windowMs);
    windows[i] = { ...reading, current: reading.current + charge.amount };
  });
  request.slots.forEach((slot, i) => {
    cells.hash(slot.key, { ttlMs: slot.ttlMs })?.set(slot.id, String(now + slot.ttlMs));
    cells.keepFor(slot.key, slot.ttlMs);
    slotsHeld[i] = (slotsHeld[i] as number) + 1;
  });
  return { ok: true, windows, slotsHeld };
}

export function settleIn(cells: QuotaCells, request: SettleRequest): void {
  const now = cells.now();
  for (const adjustment of request.adjustments) {
    if (adjustment.delta === 0) continue;
    const index = Math.floor(now / adjustment.windowMs);
    // A charge made two or more windows ago no longer weighs; an extra charge then lands in this one.
    const target =
      adjustment.index >= index - 1 ? adjustment.index : adjustment.delta > 0 ? index : undefined;
    if (target === undefined) continue;
    const key = `${adjustment.key}:${target}`;
    // A refund never takes a window below zero (its own charge may already have expired).
    const by = Math.max(adjustment.delta, -cells.counter(key));
    if (by !== 0) cells.add(key, by, 2 * adjustment.windowMs);
  }
  for (const release of request.releases) cells.hash(release.key)?.delete(release.id);
  for (const counters of request.counters) {
    const hash = cells.hash(counters.key, { ttlMs: counters.ttlMs }) as Map<string, string>;
    for (const [field, by] of counters.fields) hash.set(field, String(Number(hash.get(field) ?? "0") + by));
  }
}

function livingSlots(cells: QuotaCells, key: string, now: number): number {
  const slots = cells.hash(key);
  if (!slots) return 0;
  for (const [id, expiresAt] of slots) if (Number(expiresAt) <= now) slots.delete(id);
  return slots.size;
}
