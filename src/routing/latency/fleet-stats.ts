import { fnv1a32 } from "../hash.js";
import { slotsOf } from "../load.js";
import type { NodeView } from "../types.js";
import type { LatencyPolicyOptions } from "./options.js";
import { COLD, freshOccupancy, type Prediction, predictMs } from "./predict.js";

/** What the latency policy needs about a whole eligible set, gathered in one pass. */
export interface FleetStats {
  /**
   * The policy's options with the priors for unmeasured nodes taken from the measured ones: a node
   * that joins a fleet of like nodes is expected to be like them, not like a fixed guess that may be
   * far slower (and would then never be chosen, so never measured) or far faster.
   */
  readonly options: LatencyPolicyOptions;
  readonly totalOccupancy: number;
  readonly totalSlots: number;
  /** Indices of nodes worth exploring: never measured, or penalised for errors and needing fresh samples. */
  readonly explorable: readonly number[];
  /** Indices of the nodes best for a typical request, best first; filled only for sampled fleets. */
  readonly leaders: readonly number[];
  /** `fnv1a32` of each node id, built on first use by rendezvous hashing. */
  idHashes: Uint32Array | undefined;
  readonly hashIds: IdHasher;
}

/**
 * Remembers the id hashes of the last eligible list by position. Registries keep their node order, so a
 * new snapshot usually lines up with the last one and costs one string comparison per node (a pointer
 * comparison when the registry reuses its id strings) instead of hashing every id again.
 */
export class IdHasher {
  private readonly ids: string[] = [];
  private hashes = new Uint32Array(0);

  hash(nodes: readonly NodeView[]): Uint32Array {
    const previous = this.hashes;
    const next = new Uint32Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      const id = nodes[i]!.id;
      if (this.ids[i] === id) {
        next[i] = previous[i]!;
      } else {
        next[i] = fnv1a32(id);
        this.ids[i] = id;
      }
    }
    this.ids.length = nodes.length;
    this.hashes = next;
    return next;
  }
}

/** `now` is the snapshot's: every decision on one snapshot shares its view of the fleet. */
export type StatsOf = (nodes: readonly NodeView[], now: number) => FleetStats;

/**
 * Keyed by the eligible array and the snapshot's time: every decision on the same snapshot and model
 * reuses the pass, so a large fleet costs O(n) once per snapshot, not per request. The time is part of
 * the key because the array alone outlives its snapshot (an unchanged healthy set keeps it) while the
 * live node views inside it move on.
 */
export function createStatsCache(options: LatencyPolicyOptions): StatsOf {
  const cache = new WeakMap<readonly NodeView[], FleetStats & { readonly at: number }>();
  const hashIds = new IdHasher();
  const reference: Prediction = {
    promptTokens: 512,
    maxTokens: options.typicalOutputTokens,
    stream: true,
    origin: undefined,
  };
  return (nodes, now) => {
    let stats = cache.get(nodes);
    if (stats === undefined || stats.at !== now) {
      stats = { ...gather(nodes, now, withFleetPriors(nodes, options), reference, hashIds), at: now };
      cache.set(nodes, stats);
    }
    return stats;
  };
}

export function idHashesOf(stats: FleetStats, nodes: readonly NodeView[]): Uint32Array {
  stats.idHashes ??= stats.hashIds.hash(nodes);
  return stats.idHashes;
}

function gather(
  nodes: readonly NodeView[],
  now: number,
  options: LatencyPolicyOptions,
  reference: Prediction,
  hashIds: IdHasher,
): FleetStats {
  const leaderCount = nodes.length > options.sampleThreshold ? options.leaderCount : 0;
  const leaders: number[] = [];
  const leaderScores: number[] = [];
  const explorable: number[] = [];
  let totalOccupancy = 0;
  let totalSlots = 0;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    totalOccupancy += freshOccupancy(node, now, options);
    totalSlots += slotsOf(node, options.defaultSlots);
    if (node.ttftMs === undefined || node.errorRate > 0) explorable.push(i);
    if (leaderCount > 0)
      keepBest(leaders, leaderScores, leaderCount, i, predictMs(node, reference, COLD, now, options));
  }
  return { options, totalOccupancy, totalSlots, explorable, leaders, idHashes: undefined, hashIds };
}

/** The mean of each pace over the nodes that have measured it, in place of the configured prior. */
function withFleetPriors(nodes: readonly NodeView[], options: LatencyPolicyOptions): LatencyPolicyOptions {
  const ttft = meanOf(nodes, (node) => node.ttftMs);
  const interToken = meanOf(nodes, (node) => node.interTokenMs);
  const prefill = meanOf(nodes, (node) => node.prefillTokensPerSec);
  if (ttft === undefined && interToken === undefined && prefill === undefined) return options;
  return {
    ...options,
    defaultTtftMs: ttft ?? options.defaultTtftMs,
    defaultInterTokenMs: interToken ?? options.defaultInterTokenMs,
    defaultPrefillTokensPerSec: prefill ?? options.defaultPrefillTokensPerSec,
  };
}

function meanOf(
  nodes: readonly NodeView[],
  pace: (node: NodeView) => number | undefined,
): number | undefined {
  let sum = 0;
  let measured = 0;
  for (const node of nodes) {
    const value = pace(node);
    if (value === undefined) continue;
    sum += value;
    measured++;
  }
  return measured > 0 ? sum / measured : undefined;
}

/** Insertion into a tiny sorted list: cheaper than sorting the fleet for its best few. */
function keepBest(indices: number[], scores: number[], limit: number, index: number, score: number): void {
  let at = scores.length;
  while (at > 0 && scores[at - 1]! > score) at--;
  if (at >= limit) return;
  indices.splice(at, 0, index);
  scores.splice(at, 0, score);
  if (indices.length > limit) {
    indices.pop();
    scores.pop();
  }
}
