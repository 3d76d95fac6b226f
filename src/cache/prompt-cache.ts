import type { StateStore } from "../store/index.js";
import { type AnswerBody, parseStoredAnswer, type StoredAnswer, serializeAnswer } from "./answer.js";
import { SingleFlight } from "./flight.js";
import { cacheKey, type KeyParts } from "./key.js";
import { type CacheMode, cacheDirectives, uncacheableReason } from "./policy.js";
import { AnswerRecorder } from "./recorder.js";
import { type CacheEvents, CacheTiers } from "./tiers.js";

export interface PromptCacheSettings {
  readonly mode: CacheMode;
  readonly ttlMs: number;
  readonly maxEntryBytes: number;
  readonly memoryBytes: number;
  readonly singleFlightWaitMs: number;
  readonly storeRetryMs: number;
}

export interface CacheLookup extends KeyParts {
  /** The request's `Cache-Control` header. */
  readonly cacheControl: string | undefined;
  /** The call's signal: a client that leaves stops waiting on another call's answer. */
  readonly signal: AbortSignal;
}

/**
 * How a call goes on once the cache has seen it. A fill records what the call relays and, when the
 * call has settled, stores the answer if it was complete; either way it ends the call's flight.
 */
export interface CacheFill {
  readonly recorder: AnswerRecorder;
  finish(complete: boolean): Promise<void>;
}

export type CacheDecision =
  | { readonly kind: "off" }
  | { readonly kind: "hit"; readonly answer: AnswerBody; readonly ageS: number }
  | { readonly kind: "miss" | "bypass"; readonly fill: CacheFill | undefined };

/**
 * The prompt cache: repeated requests answered from memory or the shared store. Entries are keyed
 * per tenant (key.ts), kept only for complete answers, and expire after `ttlMs`; wall-clock times
 * (`now`) date them, since replicas compare them.
 */
export class PromptCache {
  private readonly tiers: CacheTiers;
  private readonly flights: SingleFlight;

  constructor(
    store: StateStore,
    private readonly settings: PromptCacheSettings,
    events: CacheEvents,
    private readonly now: () => number = Date.now,
  ) {
    this.tiers = new CacheTiers(store, settings, events, performance.now.bind(performance));
    this.flights = new SingleFlight(store, this.tiers, settings.singleFlightWaitMs);
  }

  /** Bytes of answers held in this process. */
  get memoryBytes(): number {
    return this.tiers.memoryBytes;
  }

  async decide(lookup: CacheLookup): Promise<CacheDecision> {
    const mode = this.settings.mode;
    if (mode === "off") return { kind: "off" };
    if (uncacheableReason(mode, lookup.body) !== undefined) return { kind: "bypass", fill: undefined };
    const key = cacheKey(lookup);
    if (key === undefined) return { kind: "bypass", fill: undefined };
    const directives = cacheDirectives(lookup.cacheControl);
    const fill = (end?: () => Promise<void>) =>
      directives.noStore ? undefined : this.fill(key, lookup.kind, end);
    if (directives.noCache) return { kind: "bypass", fill: fill() };
    const maxAgeS = directives.maxAgeS ?? Number.POSITIVE_INFINITY;
    const found = await this.find(key, maxAgeS);
    if (found) return found;
    if (directives.noStore) return { kind: "miss", fill: undefined };
    const joined = await this.flights.join(key, lookup.signal);
    if (joined.lead) return { kind: "miss", fill: fill(joined.end) };
    // The flight this call waited on is over: its answer, if it stored one, serves this call too.
    return (await this.find(key, maxAgeS)) ?? { kind: "miss", fill: fill() };
  }

  /** A stored answer no older than `maxAgeS` whole seconds (the `age` a hit reports). */
  private async find(key: string, maxAgeS: number): Promise<CacheDecision | undefined> {
    const text = await this.tiers.get(key, (remote) => {
      const stored = parseStoredAnswer(remote);
      return stored && stored.storedAt + this.settings.ttlMs - this.now();
    });
    if (text === undefined) return undefined;
    // What memory holds was written or checked by this process.
    const stored = JSON.parse(text) as StoredAnswer;
    const ageS = Math.floor(Math.max(0, this.now() - stored.storedAt) / 1000);
    if (ageS > maxAgeS) return undefined;
    return { kind: "hit", answer: stored.body, ageS };
  }

  private fill(key: string, kind: KeyParts["kind"], end?: () => Promise<void>): CacheFill {
    const recorder = new AnswerRecorder(kind, this.settings.maxEntryBytes);
    return {
      recorder,
      finish: async (complete) => {
        try {
          const body = complete ? recorder.answer() : undefined;
          if (body) await this.tiers.set(key, serializeAnswer({ storedAt: this.now(), body }));
        } finally {
          await end?.();
        }
      },
    };
  }
}
