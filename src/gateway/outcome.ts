import type { QuotaReservation } from "../accounting/index.js";
import type { CacheFill } from "../cache/index.js";
import type { RequestObservation } from "../fleet/index.js";
import type { EndpointKind } from "../openai/index.js";
import type { CallTrace, Logger } from "../telemetry/index.js";

export type CallKind = EndpointKind | "models" | "model";

/** What the prompt cache did for a call: answered it, looked and missed, was skipped, or had no part. */
export type CacheStatus = "off" | "hit" | "miss" | "bypass";

/** What one try on one node came to, as its attempt observed it. */
export interface AttemptReport {
  readonly nodeId: string;
  readonly observation: RequestObservation;
  /** The error's code when the node failed. */
  readonly errorCode: string | undefined;
  /** Whether the attempt continued a stream another node had started. */
  readonly continuation: boolean;
  /** When the attempt began and ended, on the gateway's clock (the call's `startedAt` is on it too). */
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface CallUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens: number | undefined;
  /** `exact` when the node reported usage; `estimated` from the gateway's own counts otherwise. */
  readonly source: "exact" | "estimated";
}

/**
 * Everything a call taught the gateway, reported once when it is over (answered, failed, abandoned
 * by its client, continued, or ended by a shutdown). Subscribers learn about calls only from this.
 */
export interface CallOutcome {
  readonly requestId: string;
  readonly kind: CallKind;
  readonly stream: boolean;
  readonly model: string | undefined;
  readonly keyId: string | undefined;
  readonly tenant: string;
  /** The HTTP status the client got; a stream that ended in an error event still got 200. */
  readonly status: number;
  /** The error the client saw, in the response or as the stream's error event. */
  readonly errorCode: string | undefined;
  readonly attempts: readonly AttemptReport[];
  /** The node whose answer (or continuation) the client got last, if any did. */
  readonly servedBy: string | undefined;
  readonly usage: CallUsage | undefined;
  /** From the call's arrival to the first content the client got. */
  readonly ttftMs: number | undefined;
  readonly durationMs: number;
  /** Body bytes sent to the client. */
  readonly bytes: number;
  /** The prompt cache's part in the answer; a hit has no attempts and the stored answer's usage. */
  readonly cache: CacheStatus;
  /** Stores the answer the call relayed, when it may be (the cache-fill subscriber decides if it is whole). */
  readonly cacheFill?: CacheFill | undefined;
  /** What the quota stage reserved for the call, which its settlement moves to the exact amount. */
  readonly reservation: QuotaReservation | undefined;
  readonly routeReason: string | undefined;
  /** The conversation and shared-prefix keys, for affinity. */
  readonly affinityKeys: readonly string[];
  /** When the call arrived, on the gateway's clock. */
  readonly startedAt: number;
  /** How long the call waited in the admission queue, when it had to; `admitted` false when refused there. */
  readonly admission: { readonly waitedMs: number; readonly admitted: boolean } | undefined;
  /** The call's span, ended by the traces subscriber. */
  readonly trace: CallTrace;
}

export type OutcomeSubscriber = (outcome: CallOutcome) => void;

/** Publishes each outcome to every subscriber; a subscriber that throws never hurts the call or the others. */
export class Settlement {
  private readonly subscribers: { name: string; fn: OutcomeSubscriber }[] = [];

  constructor(private readonly log: Logger) {}

  subscribe(name: string, fn: OutcomeSubscriber): void {
    this.subscribers.push({ name, fn });
  }

  publish(outcome: CallOutcome): void {
    for (const { name, fn } of this.subscribers) {
      try {
        fn(outcome);
      } catch (err) {
        this.log.error("settle subscriber failed", { subscriber: name, error: String(err) });
      }
    }
  }
}
