import { OPEN_PRINCIPAL, type Principal, type QuotaReservation } from "../accounting/index.js";
import type { CacheFill } from "../cache/index.js";
import type { GatewayError } from "../errors.js";
import type { NodeEntry } from "../fleet/index.js";
import {
  type ApiRoute,
  type EndpointKind,
  endpoints,
  type StreamEnd,
  type UsageReport,
} from "../openai/index.js";
import type { ContinuedUsage, NodeBreakers, RetryBudget } from "../resilience/index.js";
import type { RequestFeatures } from "../routing/index.js";
import type { CallTrace } from "../telemetry/index.js";
import type { UpstreamPools } from "../upstream/index.js";
import { Attempt, type AttemptEnv } from "./attempt.js";
import type { FailoverGuards } from "./failover.js";
import { type ProxiedRequest, uncachedTokensOn } from "./features.js";
import type { CallLifetime } from "./lifetime.js";
import type { HeaderReader, HeaderValues } from "./locality.js";
import type { CallContext } from "./node-call.js";
import type { AttemptReport, CacheStatus, CallKind, CallOutcome, CallUsage } from "./outcome.js";
import type { RequestView } from "./request-view.js";
import type { Route } from "./route.js";

interface IncomingBase {
  readonly requestId: string;
  /** Aborted by the http layer when the client disconnects. */
  readonly signal: AbortSignal;
  readonly header: HeaderReader;
  readonly headerValues: HeaderValues;
  /** The call's place in a trace, begun by the http layer so that every reply can echo it. */
  readonly trace: CallTrace;
  /** The peer's IP address, which stands for the client when the gateway runs open (no keys). */
  readonly clientAddress: string | undefined;
}

/** One client call as either http path hands it over. */
export type IncomingCall =
  | (IncomingBase & {
      readonly kind: EndpointKind;
      /** The path the node is asked on (the client may have spelled it with or without /v1). */
      readonly nodePath: ApiRoute["nodePath"];
      readonly json: unknown;
      readonly rawBody: Uint8Array;
      /** Why the body could not be read (not JSON, too large, not JSON's media type): parse refuses the call. */
      readonly unreadable?: GatewayError;
    })
  | (IncomingBase & { readonly kind: "models" })
  | (IncomingBase & { readonly kind: "model"; readonly modelId: string });

/** What every call shares: the gateway's own parts. */
export interface CallEnv {
  readonly pools: UpstreamPools;
  readonly breakers: NodeBreakers;
  readonly budget: RetryBudget;
  readonly attempts: AttemptEnv;
  readonly clock: () => number;
  readonly responseLimitBytes: number;
  readonly publish: (outcome: CallOutcome) => void;
}

const EMPTY = new Uint8Array(0);

/**
 * Everything one call knows, filled in stage by stage: who calls, what it asks, where it may go,
 * which nodes it tried. It is also what node calls need (the CallContext), and it settles once.
 */
export class Call implements CallContext {
  readonly startedAt: number;
  readonly guards: FailoverGuards;
  principal: Principal = OPEN_PRINCIPAL;
  /** The validated body, for the inference kinds. */
  request: ProxiedRequest | undefined;
  /** What routing and quotas read of the body, in one shape whatever the endpoint. */
  view: RequestView | undefined;
  /** The model asked for (the body's, or the path's for `GET /v1/models/{id}`). */
  model: string | undefined;
  features: RequestFeatures | undefined;
  affinityKeys: readonly string[] = [];
  route: Route | undefined;
  /** The node an answer is coming from, or being waited on. */
  currentNode: string | undefined;
  /** The error the client saw, however it reached them. */
  error: GatewayError | undefined;
  /** The node's usage report, when one came. */
  usage: UsageReport | undefined;
  /** A continued stream's usage, charged once for the whole answer (an estimate: no node saw it all). */
  continuedUsage: ContinuedUsage | undefined;
  /** What the quota stage reserved, settled with the outcome. */
  reservation: QuotaReservation | undefined;
  /** The body sent to nodes when it differs from the client's (usage asked for on a stream). */
  upstreamBody: Uint8Array | undefined;
  /** Content chunks relayed, for the estimate when no usage arrives. */
  completionChunks = 0;
  bytes = 0;
  firstContentAt: number | undefined;
  cache: CacheStatus = "off";
  /** Records what the call relays for the prompt cache, when the answer may be stored. */
  cacheFill: CacheFill | undefined;
  /** Set when the call had to wait in the admission queue. */
  admission: CallOutcome["admission"];
  private readonly attempts: AttemptReport[] = [];
  private settled = false;

  constructor(
    readonly incoming: IncomingCall,
    readonly lifetime: CallLifetime,
    private readonly env: CallEnv,
  ) {
    this.startedAt = env.clock();
    this.guards = { breakers: env.breakers, budget: env.budget, stopped: () => lifetime.signal.aborted };
  }

  get kind(): CallKind {
    return this.incoming.kind;
  }
  get requestId(): string {
    return this.incoming.requestId;
  }
  /** The node's path for this call. */
  get path(): string {
    return "nodePath" in this.incoming ? this.incoming.nodePath : "/v1/models";
  }
  get streamEnd(): StreamEnd {
    return "nodePath" in this.incoming ? endpoints[this.incoming.kind].end : "done";
  }
  /** Sent on to every node tried, so their work joins the client's trace. */
  get traceparent(): string | undefined {
    return this.incoming.trace.traceparent;
  }
  get rawBody(): Uint8Array {
    if (this.upstreamBody) return this.upstreamBody;
    return "rawBody" in this.incoming ? this.incoming.rawBody : EMPTY;
  }
  get pools(): UpstreamPools {
    return this.env.pools;
  }
  get responseLimitBytes(): number {
    return this.env.responseLimitBytes;
  }
  get clock(): () => number {
    return this.env.clock;
  }
  /** Aborts when the client leaves, the deadline passes or the gateway shuts down. */
  get signal(): AbortSignal {
    return this.lifetime.signal;
  }
  get ranked(): readonly NodeEntry[] {
    return this.route?.ranked ?? [];
  }

  clientGone(): boolean {
    return this.lifetime.clientGone;
  }

  /** Starts a try on one node; `raceSignal` ends it too (a hedge race lost). */
  beginAttempt(entry: NodeEntry, raceSignal?: AbortSignal, continuation = false): Attempt {
    this.currentNode = entry.id;
    const parents = raceSignal ? [this.lifetime.signal, raceSignal] : [this.lifetime.signal];
    return new Attempt(
      entry,
      this.env.attempts,
      parents,
      (report) => {
        this.attempts.push({ ...report, continuation });
      },
      uncachedTokensOn(entry.id, this.features),
    );
  }

  /** Reports the call's outcome, once; later calls do nothing. */
  settle(status: number): void {
    if (this.settled) return;
    this.settled = true;
    this.lifetime.end();
    const served = this.attempts.findLast((report) => report.observation.ok);
    this.env.publish({
      requestId: this.requestId,
      kind: this.kind,
      stream: this.features?.stream ?? false,
      model: this.model,
      keyId: this.principal.keyId,
      tenant: this.principal.tenant,
      status,
      errorCode: this.error?.code,
      attempts: this.attempts,
      servedBy: served?.nodeId,
      usage: this.usageOf(),
      ttftMs: this.firstContentAt === undefined ? undefined : this.firstContentAt - this.startedAt,
      durationMs: this.env.clock() - this.startedAt,
      bytes: this.bytes,
      cache: this.cache,
      cacheFill: this.cacheFill,
      reservation: this.reservation,
      routeReason: this.route?.reason,
      affinityKeys: this.affinityKeys,
      startedAt: this.startedAt,
      admission: this.admission,
      trace: this.incoming.trace,
    });
  }

  private usageOf(): CallUsage | undefined {
    const continued = this.continuedUsage;
    if (continued) return { ...continued, cachedTokens: undefined, source: "estimated" };
    const exact = this.usage?.usage;
    if (exact) {
      return {
        promptTokens: exact.prompt_tokens,
        completionTokens: exact.completion_tokens ?? exact.total_tokens - exact.prompt_tokens,
        cachedTokens: exact.prompt_tokens_details?.cached_tokens ?? this.usage?.timings?.cache_n,
        source: "exact",
      };
    }
    const timings = this.usage?.timings;
    if (timings) {
      // llama-server's own counts: as exact as usage, which it sends only when asked.
      return {
        promptTokens: timings.prompt_n + (timings.cache_n ?? 0),
        completionTokens: timings.predicted_n,
        cachedTokens: timings.cache_n,
        source: "exact",
      };
    }
    if (!this.features) return undefined;
    return {
      promptTokens: this.features.promptTokens,
      completionTokens: this.completionChunks,
      cachedTokens: undefined,
      source: "estimated",
    };
  }
}
