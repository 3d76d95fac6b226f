import type { KeyLimits } from "../config/index.js";
import { errors, type GatewayError } from "../errors.js";
import {
  msUntilFits,
  type ReserveRequest,
  type ReserveResult,
  slidingUse,
  type WindowReading,
} from "../store/index.js";

const MINUTE = 60_000;
const DAY = 86_400_000;

type WindowLimit = "requests_per_minute" | "tokens_per_minute" | "tokens_per_day";
const WINDOWS: readonly {
  limit: WindowLimit;
  unit: "requests" | "tokens";
  windowMs: number;
  stem: string;
}[] = [
  { limit: "requests_per_minute", unit: "requests", windowMs: MINUTE, stem: "rpm" },
  { limit: "tokens_per_minute", unit: "tokens", windowMs: MINUTE, stem: "tpm" },
  { limit: "tokens_per_day", unit: "tokens", windowMs: DAY, stem: "tpd" },
];

/** Whose limits a window or slot is: the key's own, or its tenant's (shared by every key of it). */
export interface LimitScope {
  readonly name: string;
  /** Store key stem; every key of one tenant carries the tenant's hash tag. */
  readonly stem: string;
  readonly limits: KeyLimits;
}

export interface PlannedWindow {
  readonly scope: string;
  readonly limit: WindowLimit;
  readonly unit: "requests" | "tokens";
}

/** The reservation one call asks of the store, with what each charge stands for. */
export interface QuotaPlan {
  readonly request: ReserveRequest;
  readonly windows: readonly PlannedWindow[];
  readonly slotScopes: readonly string[];
}

export function scopesOf(
  tenant: string,
  keyId: string | undefined,
  keyLimits: KeyLimits | undefined,
  tenantLimits: KeyLimits | undefined,
): LimitScope[] {
  const scopes: LimitScope[] = [];
  const tag = `quota:{${tenant}}`;
  if (keyLimits && keyId !== undefined)
    scopes.push({ name: `key '${keyId}'`, stem: `${tag}:key:${keyId}`, limits: keyLimits });
  if (tenantLimits) scopes.push({ name: `tenant '${tenant}'`, stem: `${tag}:tenant`, limits: tenantLimits });
  return scopes;
}

export function needsTokens(scopes: readonly LimitScope[]): boolean {
  return scopes.some(
    (scope) => scope.limits.tokens_per_minute !== undefined || scope.limits.tokens_per_day !== undefined,
  );
}

export function planReservation(
  scopes: readonly LimitScope[],
  tokens: number,
  slotId: string,
  slotTtlMs: number,
): QuotaPlan {
  const request: { windows: ReserveRequest["windows"][number][]; slots: ReserveRequest["slots"][number][] } =
    {
      windows: [],
      slots: [],
    };
  const windows: PlannedWindow[] = [];
  const slotScopes: string[] = [];
  for (const scope of scopes) {
    for (const window of WINDOWS) {
      const limit = scope.limits[window.limit];
      if (limit === undefined) continue;
      const amount = window.unit === "requests" ? 1 : tokens;
      request.windows.push({ key: `${scope.stem}:${window.stem}`, amount, limit, windowMs: window.windowMs });
      windows.push({ scope: scope.name, limit: window.limit, unit: window.unit });
    }
    const concurrent = scope.limits.max_concurrent;
    if (concurrent !== undefined) {
      request.slots.push({ key: `${scope.stem}:conc`, id: slotId, limit: concurrent, ttlMs: slotTtlMs });
      slotScopes.push(scope.name);
    }
  }
  return { request, windows, slotScopes };
}

/**
 * OpenAI's rate-limit headers for the tightest request and token windows: what SDKs and dashboards
 * read. `reset` is when the current window ends and its count starts to slide out.
 */
export function rateLimitHeaders(plan: QuotaPlan, result: ReserveResult): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const unit of ["requests", "tokens"] as const) {
    let tightest: { limit: number; remaining: number; resetMs: number } | undefined;
    plan.request.windows.forEach((charge, i) => {
      if (plan.windows[i]?.unit !== unit) return;
      const reading = result.windows[i] as WindowReading;
      const remaining = Math.max(0, charge.limit - slidingUse(reading, charge.windowMs));
      if (tightest === undefined || remaining < tightest.remaining) {
        tightest = { limit: charge.limit, remaining, resetMs: charge.windowMs - reading.elapsedMs };
      }
    });
    if (!tightest) continue;
    headers[`x-ratelimit-limit-${unit}`] = String(tightest.limit);
    headers[`x-ratelimit-remaining-${unit}`] = String(tightest.remaining);
    headers[`x-ratelimit-reset-${unit}`] = formatDuration(tightest.resetMs);
  }
  return headers;
}

/** The 429 for a refused reservation: which limit of whom, and when the request would fit. */
export function refusal(plan: QuotaPlan, result: Extract<ReserveResult, { ok: false }>): GatewayError {
  if (result.refused.kind === "slot") {
    const scope = plan.slotScopes[result.refused.index];
    const limit = plan.request.slots[result.refused.index]?.limit;
    return errors.rateLimitExceeded(
      `Rate limit reached for ${scope}: max_concurrent ${limit} requests already in flight`,
      "max_concurrent",
      1,
    );
  }
  const index = result.refused.index;
  const charge = plan.request.windows[index];
  const planned = plan.windows[index];
  const reading = result.windows[index];
  if (!charge || !planned || !reading) return errors.internal(new Error("refusal outside the plan"));
  const used = slidingUse(reading, charge.windowMs);
  const waitMs = msUntilFits(reading, charge.windowMs, charge.amount, charge.limit);
  const asked = `${planned.limit} ${charge.limit}, used ${used}, requested ${charge.amount}`;
  if (waitMs === undefined) {
    return errors.rateLimitExceeded(
      `Request too large for ${planned.scope}: ${asked}; it can never fit (lower max_tokens or the prompt)`,
      planned.limit,
      undefined,
    );
  }
  const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
  return errors.rateLimitExceeded(
    `Rate limit reached for ${planned.scope}: ${asked}. Try again in ${retryAfter}s`,
    planned.limit,
    retryAfter,
  );
}

/** `350ms`, `12s`, `6m0s`, `1h2m3s`: the duration style of OpenAI's reset headers. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const seconds = Math.ceil(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
