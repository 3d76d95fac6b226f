export type CacheMode = "off" | "deterministic" | "all";

/** What a request's `Cache-Control` asks of the cache. */
export interface CacheDirectives {
  /** Do not answer from the cache (the answer may still be stored). */
  readonly noCache: boolean;
  /** Do not store this answer. */
  readonly noStore: boolean;
  /** Only a stored answer at most this many seconds old will do. */
  readonly maxAgeS: number | undefined;
}

const NONE: CacheDirectives = { noCache: false, noStore: false, maxAgeS: undefined };

/** Reads the request directives of RFC 9111 the cache honours; anything else is ignored. */
export function cacheDirectives(header: string | undefined): CacheDirectives {
  if (!header) return NONE;
  let noCache = false;
  let noStore = false;
  let maxAgeS: number | undefined;
  for (const part of header.split(",")) {
    const [rawName = "", rawValue] = part.split("=", 2);
    const name = rawName.trim().toLowerCase();
    if (name === "no-cache") noCache = true;
    else if (name === "no-store") noStore = true;
    else if (name === "max-age" && rawValue !== undefined) {
      const value = rawValue.trim().replace(/^"(.*)"$/, "$1");
      if (/^\d{1,10}$/.test(value)) maxAgeS = Math.min(maxAgeS ?? Number.POSITIVE_INFINITY, Number(value));
    }
  }
  return { noCache, noStore, maxAgeS };
}

/**
 * Why a request's answer may not come from or go into the cache, or undefined when it may.
 * `deterministic` admits only answers the node would repeat: temperature 0, or a seed given.
 * Log probabilities are never kept: a replay could not stream them as the node does.
 */
export function uncacheableReason(
  mode: Exclude<CacheMode, "off">,
  body: Readonly<Record<string, unknown>>,
): string | undefined {
  if (body.logprobs || body.top_logprobs || body.n_probs) return "log probabilities asked for";
  if (mode === "all") return undefined;
  const seeded = typeof body.seed === "number";
  if (body.temperature !== 0 && !seeded) return "not deterministic (no temperature 0, no seed)";
  return undefined;
}
