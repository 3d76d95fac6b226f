import { DEFAULT_SLOTS } from "../load.js";

export interface LatencyPolicyOptions {
  /** Share of decisions that send a cold (unmeasured) or recovering (erroring) node first, to measure it. */
  readonly explorationRate: number;
  /**
   * Hotspot guard, part one: the affinity node loses its bonus only when its load per slot is above
   * (1+ε)× the fleet's mean (this request counted) ...
   */
  readonly affinityLoadEpsilon: number;
  /**
   * ... and at least this many requests per slot are queued behind its busy slots. One or two requests
   * at low load are no hotspot: the predicted wait already weighs them against a prefill elsewhere.
   */
  readonly hotspotQueuePerSlot: number;
  /**
   * Share of a full prefill charged, times the node's `evictionRisk`, for sending a request that needs
   * a slot to a node whose slots all hold conversations: the one evicted loses its cache (a share, since
   * llama-server may restore it from its host-memory prompt cache).
   */
  readonly evictionWeight: number;
  /**
   * Weight of the delay a prompt imposes on the requests already waiting for a first token on the same
   * node (they share its batch): 1 counts their time as much as this request's own.
   */
  readonly externalityWeight: number;
  /** How much slower a prefill runs on a node whose slots are all busy than on an idle one (× 1 + this). */
  readonly slotContention: number;
  /**
   * Nodes predicted within this many milliseconds of the best are near-equals, picked between by power of
   * two choices. Absolute, not relative: the decode term is shared by all nodes and would make any ratio
   * hide real differences in time to first token.
   */
  readonly nearEqualMs: number;
  /** Weight of the expected decode time for streams, where time to first token is what users feel. */
  readonly streamDecodeWeight: number;
  /** Weight of the expected decode time when the client waits for the whole answer. */
  readonly blockingDecodeWeight: number;
  /** Milliseconds charged per unit of error rate: roughly what a failed attempt wastes before failover. */
  readonly errorPenaltyMs: number;
  /** Share of `promptTokens` assumed cached on the affinity node when the caller gives no estimate. */
  readonly prefixShare: number;
  /** Priors for what is not measured yet. */
  readonly defaultNetworkMs: number;
  readonly defaultSlots: number;
  readonly defaultTtftMs: number;
  readonly defaultInterTokenMs: number;
  readonly defaultPrefillTokensPerSec: number;
  /** Output length assumed for the requests queued ahead, to turn a queue length into a wait. */
  readonly typicalOutputTokens: number;
  /** Fleets with more eligible nodes than this are sampled rather than scored in full. */
  readonly sampleThreshold: number;
  /** Random nodes scored per decision in a sampled fleet (besides the leaders and the affinity node). */
  readonly sampleSize: number;
  /** Best nodes of the snapshot for a typical request, always scored in a sampled fleet. */
  readonly leaderCount: number;
}

export const DEFAULT_LATENCY_OPTIONS: LatencyPolicyOptions = Object.freeze({
  explorationRate: 0.02,
  affinityLoadEpsilon: 0.25,
  hotspotQueuePerSlot: 1,
  evictionWeight: 0.5,
  externalityWeight: 1,
  slotContention: 1,
  nearEqualMs: 10,
  streamDecodeWeight: 0.2,
  blockingDecodeWeight: 1,
  errorPenaltyMs: 2000,
  prefixShare: 0.5,
  defaultNetworkMs: 50,
  defaultSlots: DEFAULT_SLOTS,
  defaultTtftMs: 500,
  defaultInterTokenMs: 30,
  defaultPrefillTokensPerSec: 1000,
  typicalOutputTokens: 256,
  sampleThreshold: 32,
  sampleSize: 4,
  leaderCount: 2,
});

export function resolveLatencyOptions(overrides: Partial<LatencyPolicyOptions> = {}): LatencyPolicyOptions {
  const options = { ...DEFAULT_LATENCY_OPTIONS, ...overrides };
  for (const [key, value] of Object.entries(options)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`routing.latency.${key} must be a finite number >= 0, got ${value}`);
    }
  }
  if (options.explorationRate > 1) throw new RangeError("routing.latency.explorationRate must be <= 1");
  if (options.defaultSlots < 1 || options.defaultPrefillTokensPerSec <= 0) {
    throw new RangeError("routing.latency.defaultSlots and defaultPrefillTokensPerSec must be positive");
  }
  return Object.freeze(options);
}
