import type { KeyLimits } from "../config/index.js";
import { errors, type GatewayError } from "../errors.js";
import type { StateStore, WindowAdjustment } from "../store/index.js";
import type { Principal } from "./keys.js";
import type { LedgerEntry, UsageLedger } from "./ledger.js";
import {
  needsTokens,
  planReservation,
  type QuotaPlan,
  rateLimitHeaders,
  refusal,
  scopesOf,
} from "./quota-plan.js";
import { SettleBatch } from "./settle-batch.js";
import { PromptCalibration } from "./tokens.js";

export interface QuotaSettings {
  readonly onStoreError: "open" | "closed";
  readonly defaultMaxTokens: number;
  readonly tenants: Readonly<Record<string, KeyLimits>>;
  readonly chargeCacheHits: boolean;
  /** How long a concurrency slot lives if its replica dies before releasing it. */
  readonly slotTtlMs: number;
  /** Settlements are gathered this long and sent in one round trip. */
  readonly settleBatchMs: number;
}

/** What a call asks for, in tokens: counted lazily, only when a token limit applies. */
export interface QuotaDemand {
  readonly model: string | undefined;
  /** cl100k's count of the prompt (tokens.ts); undefined for calls without one (listings). */
  readonly countPrompt: (() => number) | undefined;
  /** The client's max_tokens; undefined reserves the configured default cap. */
  readonly completionCap: number | undefined;
  /** Choices asked for (`n`): each may produce the cap. */
  readonly choices: number;
}

/** What the quota stage holds for a call until it settles. */
export interface QuotaReservation {
  readonly plan: QuotaPlan;
  readonly indexes: readonly number[];
  readonly model: string | undefined;
  /** The raw prompt count, to calibrate against the node's exact one. */
  readonly counted: number | undefined;
}

export type QuotaDecision =
  | {
      readonly ok: true;
      readonly reservation: QuotaReservation | undefined;
      readonly headers: Record<string, string>;
    }
  | { readonly ok: false; readonly error: GatewayError; readonly headers: Record<string, string> };

/** A settled call as the quotas and the ledger see it. */
export interface SettledCall
  extends Omit<LedgerEntry, "promptTokens" | "completionTokens" | "cachedTokens" | "estimated"> {
  readonly reservation: QuotaReservation | undefined;
  readonly usage:
    | {
        readonly promptTokens: number;
        readonly completionTokens: number;
        readonly cachedTokens: number | undefined;
        readonly source: "exact" | "estimated";
      }
    | undefined;
  /** Whether any content reached the client: a failure before it delivered nothing and costs no tokens. */
  readonly delivered: boolean;
}

export interface QuotaHooks {
  readonly warn: (message: string, fields: Record<string, unknown>) => void;
  /** A store failure the quotas fell back from: `decision` is what the request got. */
  readonly onFallback: (operation: "reserve" | "settle", decision: "open" | "closed") => void;
  /** A call refused for `limit` (`tokens_per_minute`, ...). */
  readonly onRefused: (limit: string) => void;
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * Per-key and per-tenant limits, atomic across replicas: one store round trip reserves the request's
 * tokens (its prompt plus its completion cap) and a concurrency slot; when the call settles, the
 * reservation moves to what was really used, the slot is released and the ledger written, in a
 * round trip shared with the other calls that ended in the same moment (SettleBatch).
 */
export class Quotas {
  readonly calibration = new PromptCalibration();
  private readonly batch: SettleBatch;

  constructor(
    private readonly store: StateStore,
    private readonly ledger: UsageLedger,
    private readonly settings: QuotaSettings,
    private readonly hooks: QuotaHooks,
  ) {
    this.batch = new SettleBatch(store, settings.settleBatchMs, (err, calls) => {
      // The reservations stay charged and their slots expire by themselves; the ledger misses these calls.
      hooks.onFallback("settle", settings.onStoreError);
      hooks.warn("quota settlement failed: the store is unavailable", {
        error: (err as Error).message,
        calls,
      });
    });
  }

  async reserve(principal: Principal, demand: QuotaDemand, requestId: string): Promise<QuotaDecision> {
    const scopes = scopesOf(
      principal.tenant,
      principal.keyId,
      principal.limits,
      this.settings.tenants[principal.tenant],
    );
    if (scopes.length === 0) return { ok: true, reservation: undefined, headers: NO_HEADERS };
    const counted = needsTokens(scopes) ? demand.countPrompt?.() : undefined;
    const prompt =
      counted === undefined || demand.model === undefined
        ? (counted ?? 0)
        : this.calibration.scale(demand.model, counted);
    const cap = demand.completionCap ?? this.settings.defaultMaxTokens;
    const completion = demand.countPrompt === undefined ? 0 : cap * demand.choices;
    const plan = planReservation(scopes, prompt + completion, requestId, this.settings.slotTtlMs);
    let result: Awaited<ReturnType<StateStore["reserve"]>>;
    try {
      result = await this.store.reserve(plan.request);
    } catch (err) {
      return this.storeFailed("reserve", err);
    }
    const headers = rateLimitHeaders(plan, result);
    if (!result.ok) {
      const error = refusal(plan, result);
      this.hooks.onRefused(error.param ?? "unknown");
      return { ok: false, error, headers };
    }
    const indexes = result.windows.map((reading) => reading.index);
    return {
      ok: true,
      reservation: { plan, indexes, model: demand.model, counted },
      headers,
    };
  }

  /** Sends the settlements still gathered (at shutdown). */
  flush(): Promise<void> {
    return this.batch.flush();
  }

  settle(call: SettledCall): void {
    const usage = call.usage;
    const charged = usage !== undefined && (usage.source === "exact" || call.delivered);
    const hitFree = call.cacheHit && !this.settings.chargeCacheHits;
    const tokens = charged && !hitFree ? usage.promptTokens + usage.completionTokens : 0;
    const reservation = call.reservation;
    if (
      reservation?.counted !== undefined &&
      usage?.source === "exact" &&
      reservation.model !== undefined &&
      !call.cacheHit
    ) {
      this.calibration.learn(reservation.model, reservation.counted, usage.promptTokens);
    }
    const entry: LedgerEntry = {
      ...call,
      promptTokens: charged ? usage.promptTokens : 0,
      completionTokens: charged ? usage.completionTokens : 0,
      cachedTokens: charged ? (usage.cachedTokens ?? 0) : 0,
      estimated: charged && usage.source === "estimated",
    };
    this.batch.add({
      adjustments: reservation ? adjustments(reservation, tokens, hitFree) : [],
      releases: reservation
        ? reservation.plan.request.slots.map((slot) => ({ key: slot.key, id: slot.id }))
        : [],
      counters: [this.ledger.counters(entry)],
    });
  }

  private storeFailed(operation: "reserve", err: unknown): QuotaDecision {
    const decision = this.settings.onStoreError;
    this.hooks.onFallback(operation, decision);
    this.hooks.warn(
      `quota ${operation} failed: the store is unavailable; requests ${decision === "open" ? "pass unaccounted" : "are refused"}`,
      {
        error: (err as Error).message,
      },
    );
    if (decision === "open") return { ok: true, reservation: undefined, headers: NO_HEADERS };
    return { ok: false, error: errors.storeUnavailable("quotas"), headers: NO_HEADERS };
  }
}

/** Token windows move from the reserved amount to the charged one; a free cache hit returns its request too. */
function adjustments(reservation: QuotaReservation, tokens: number, hitFree: boolean): WindowAdjustment[] {
  const moves: WindowAdjustment[] = [];
  reservation.plan.request.windows.forEach((charge, i) => {
    const unit = reservation.plan.windows[i]?.unit;
    const delta = unit === "tokens" ? tokens - charge.amount : hitFree ? -1 : 0;
    if (delta !== 0)
      moves.push({
        key: charge.key,
        index: reservation.indexes[i] as number,
        windowMs: charge.windowMs,
        delta,
      });
  });
  return moves;
}
