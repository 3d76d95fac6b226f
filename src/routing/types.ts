import type { LatLon } from "../geo/index.js";

/**
 * What routing sees of one node: a plain, immutable value taken from the fleet registry at the moment
 * of the decision. Policies read nothing else, so a benchmark can replay decisions without sockets.
 */
export interface NodeView {
  readonly id: string;
  readonly models: readonly string[];
  /** Region code, when the node was configured with one. */
  readonly region: string | undefined;
  readonly location: LatLon | undefined;
  /** Requests this gateway has in flight to the node right now. */
  readonly inFlight: number;
  /** Parallel slots (llama-server `total_slots`); undefined until learned from /props or config. */
  readonly slotsTotal: number | undefined;
  /** Slots busy and requests deferred, as last read from /slots and /metrics. */
  readonly slotsBusy: number;
  readonly deferred: number;
  /** Decaying averages of what this gateway observed; undefined before the first observation. */
  readonly ttftMs: number | undefined;
  readonly interTokenMs: number | undefined;
  readonly prefillTokensPerSec: number | undefined;
  readonly rttMs: number | undefined;
  /** Share of recent requests that failed through the node's fault, 0..1. */
  readonly errorRate: number;
  /**
   * Requests of other gateways on the node at the last probe: its busy slots and deferred requests less
   * this gateway's own at that moment. When absent, whatever `slotsBusy` and `deferred` exceed
   * `inFlight` by.
   */
  readonly foreignLoad?: number | undefined;
  /** Monotonic milliseconds of that probe reading: routing believes it less the older it is. */
  readonly probedAt?: number | undefined;
  /** Decaying average of how long the node took per request, from sending it to its last byte. */
  readonly serviceMs?: number | undefined;
  /**
   * The chance, 0..1, that a request claiming a slot here evicts a conversation that comes back: 0
   * while a slot holds none of the conversations this gateway served there recently.
   */
  readonly evictionRisk?: number | undefined;
  /** Uncached prompt tokens of this gateway's requests on the node that have no first token yet. */
  readonly pendingPrefillTokens?: number | undefined;
  /** How many requests those are. */
  readonly prefillingRequests?: number | undefined;
  /**
   * Share of that pending work a new request waits for, 0..1, learned: llama-server evaluates every
   * slot's prompt in one batch (1), a node with parallel prompt evaluation learns less.
   */
  readonly prefillSharing?: number | undefined;
}

export interface FleetSnapshot {
  /** Only nodes that passed the hard health filters: healthy and not excluded by a breaker. */
  readonly nodes: readonly NodeView[];
  /** Monotonic milliseconds at which the snapshot was taken. */
  readonly now: number;
}

/** What routing knows of the request. */
export interface RequestFeatures {
  readonly model: string;
  readonly promptTokens: number;
  readonly maxTokens: number;
  readonly stream: boolean;
  /**
   * Stable key of the request's shared prefix, for rendezvous placement: the system prompt when there
   * is one (shared by many conversations), else the conversation's opening.
   */
  readonly prefixKey: string | undefined;
  /** The node that served this conversation last, when remembered (its slot likely holds the prefix). */
  readonly rememberedNode: string | undefined;
  /** Where latency is measured from: the client when routing is client-relative, else this gateway. */
  readonly origin: LatLon | undefined;
  /** Regions the request may use (data residency); undefined means any. */
  readonly allowedRegions: ReadonlySet<string> | undefined;
  /**
   * Prompt tokens the affinity node is expected to hold in its slot cache (e.g. the token count of the
   * conversation so far). When absent, routing assumes a fixed share of `promptTokens` is reusable.
   */
  readonly expectedCachedTokens?: number | undefined;
  /**
   * Whether the remembered node served this very conversation (not only a prefix others share), so the
   * request reuses the slot that holds it instead of claiming another conversation's.
   */
  readonly rememberedConversation?: boolean | undefined;
}

/** Why no node could take the request: the gateway answers 404 model_not_found or 503 respectively. */
export type Unavailability = "model-not-served" | "region-not-allowed";

export interface RouteDecision {
  /** Eligible nodes, best first. Failover walks this list in order. */
  readonly ranked: readonly NodeView[];
  /** Short reason for the pick, sent to clients in `x-fleetgate-route` (e.g. `latency;affinity=hit`). */
  readonly reason: string;
  /** Set only when `ranked` is empty: whether no node serves the model or none is in an allowed region. */
  readonly unavailable?: Unavailability | undefined;
}

/** Randomness is injected so that decisions replay exactly under a seed. */
export type RandomSource = () => number;

export interface RoutingPolicy {
  readonly name: string;
  rank(snapshot: FleetSnapshot, request: RequestFeatures): RouteDecision;
}
