/**
 * Argument checks shared by both adapters. Redis rejects fractional counters and non-positive expiry
 * on its own; checking here makes the memory store fail the same way, so code that works against the
 * embedded default does not break only once a deployment adds Redis.
 */
export function requireInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be a safe integer, got ${value}`);
  }
}

export function requireTtl(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer number of milliseconds, got ${value}`);
  }
}

export function requireConsumeArgs(amount: number, limit: number, windowMs: number): void {
  requireInteger("amount", amount);
  if (amount < 0) {
    // Refunds go through increment(key, -n); a negative consume would always pass the limit check.
    throw new RangeError(`amount must not be negative, got ${amount}`);
  }
  requireInteger("limit", limit);
  requireTtl("windowMs", windowMs);
}

/**
 * Hash keys and fields must be non-empty: an empty one is what a missing id turns into, and Redis and
 * a Map would both store it without complaint.
 */
export function requireNonEmpty(name: string, value: string): void {
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
}

/** Values may be empty but must be strings: `JSON.stringify(undefined)` is typed string yet returns undefined. */
export function requireString(name: string, value: string): void {
  if (typeof value !== "string") throw new TypeError(`${name} must be a string, got ${typeof value}`);
}
