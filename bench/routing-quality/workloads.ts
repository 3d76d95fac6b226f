import type { ChatMessage, ChatRequest } from "./client.js";
import { MODEL } from "./fleet.js";
import { exponential, poissonArrivals, prose, type RandomSource, seeded, uniformInt } from "./random.js";

export type WorkloadId = "a" | "b" | "c";

export const WORKLOAD_NAMES: Readonly<Record<WorkloadId, string>> = {
  a: "independent",
  b: "conversations",
  c: "slow node",
};

export interface Arrival {
  readonly atMs: number;
  readonly request: ChatRequest;
}

export interface Conversation {
  /** Position in the plan, for per-request records. */
  readonly id: number;
  readonly startMs: number;
  /** Conversations of one lane run one after another; each lane is one user at a time. */
  readonly lane: number;
  readonly system: string;
  /** A document of the conversation's own, sent ahead of its first question (RAG, agents). */
  readonly context: string | undefined;
  readonly turns: readonly { readonly user: string; readonly thinkMs: number }[];
}

/** A seeded schedule of traffic. Times are ms from the start of the measured window. */
export interface WorkloadPlan {
  readonly id: WorkloadId;
  readonly arrivals: readonly Arrival[];
  readonly conversations: readonly Conversation[];
  readonly maxTokens: number;
  /** One node turns this much slower at `atMs`. */
  readonly slowdown?: { readonly atMs: number; readonly delayMs: number } | undefined;
}

export interface WorkloadScale {
  /** Open-loop request rate of (a) and (c). */
  readonly ratePerSec: number;
  readonly durationMs: number;
  readonly conversations: number;
  /** Conversations start within this window; their later turns may run past it. */
  readonly conversationWindowMs: number;
  readonly systemPrompts: number;
  readonly systemPromptWords: readonly [number, number];
  readonly turns: readonly [number, number];
  readonly maxTokens: number;
  /** Pause before the next turn: a base plus an exponential with this mean, capped. */
  readonly thinkMs: readonly [base: number, mean: number, cap: number];
  /** Words of each conversation's own document; none when absent. */
  readonly ownContextWords?: readonly [number, number] | undefined;
  /**
   * When set, conversations run in this many lanes, each lane's one after another, so that about this
   * many are in flight whatever the fleet's speed; else each starts at its own time.
   */
  readonly lanes?: number | undefined;
  /** A request with no token by then is aborted and counts as failed. */
  readonly ttftTimeoutMs: number;
}

/** ~1000–1500 tokens of system prompt; 3–5 turns; 30 req/s against ~85 req/s of fleet capacity. */
export const SIM_SCALE: WorkloadScale = {
  ratePerSec: 30,
  durationMs: 6500,
  conversations: 28,
  conversationWindowMs: 4500,
  systemPrompts: 6,
  systemPromptWords: [700, 1000],
  turns: [3, 5],
  maxTokens: 32,
  // People read the answer before typing the next question; capped so a run stays short.
  thinkMs: [150, 300, 1500],
  ttftTimeoutMs: 1000,
};

export const SLOWDOWN_MS = 2000;

/** Streams of randomness, one per purpose, so changing one part of a workload leaves the rest alone. */
const STREAM = { arrivals: 1, prompts: 2, systems: 3, conversations: 4, warmup: 5, contexts: 6 } as const;

function independent(random: RandomSource, times: readonly number[], maxTokens: number): Arrival[] {
  return times.map((atMs) => ({
    atMs,
    request: {
      model: MODEL,
      messages: [{ role: "user", content: prose(random, uniformInt(random, 60, 400)) }],
      maxTokens,
    },
  }));
}

function conversations(seed: number, scale: WorkloadScale): Conversation[] {
  const systemsRandom = seeded(seed, STREAM.systems);
  const systems = Array.from({ length: scale.systemPrompts }, (_, i) => {
    const [min, max] = scale.systemPromptWords;
    return `You are assistant #${i}. ${prose(systemsRandom, uniformInt(systemsRandom, min, max))}`;
  });
  const random = seeded(seed, STREAM.conversations);
  const contextRandom = seeded(seed, STREAM.contexts);
  const starts = Array.from(
    { length: scale.conversations },
    () => random() * scale.conversationWindowMs,
  ).sort((x, y) => x - y);
  const [thinkBase, thinkMean, thinkCap] = scale.thinkMs;
  const words = scale.ownContextWords;
  return starts.map((startMs, i) => ({
    id: i,
    startMs,
    lane: scale.lanes === undefined ? i : i % scale.lanes,
    system: systems[Math.floor(random() * systems.length)]!,
    context:
      words && `Document #${i}: ${prose(contextRandom, uniformInt(contextRandom, words[0], words[1]))}`,
    turns: Array.from({ length: uniformInt(random, scale.turns[0], scale.turns[1]) }, () => ({
      user: prose(random, uniformInt(random, 15, 40)),
      thinkMs: Math.min(thinkCap, thinkBase + exponential(random, thinkMean)),
    })),
  }));
}

export function planWorkload(id: WorkloadId, seed: number, scale: WorkloadScale): WorkloadPlan {
  if (id === "b") {
    return { id, arrivals: [], conversations: conversations(seed, scale), maxTokens: scale.maxTokens };
  }
  // (c) is (a) under the same seed plus the slowdown, so (a) is its baseline run.
  const times = poissonArrivals(seeded(seed, STREAM.arrivals), scale.ratePerSec, scale.durationMs);
  return {
    id,
    arrivals: independent(seeded(seed, STREAM.prompts), times, scale.maxTokens),
    conversations: [],
    maxTokens: scale.maxTokens,
    slowdown: id === "c" ? { atMs: scale.durationMs / 2, delayMs: SLOWDOWN_MS } : undefined,
  };
}

export const WARMUP_MS = 1000;

/**
 * Traffic before the measured window, the same for every workload and policy: it lets the gateway
 * take its first measurements, as a long-running gateway would have, and fills no cache that a
 * workload later relies on (the prompts share nothing with the workloads' prompts).
 */
export function warmupArrivals(seed: number, scale: WorkloadScale): Arrival[] {
  const times = poissonArrivals(seeded(seed, STREAM.warmup), scale.ratePerSec * 0.6, WARMUP_MS);
  return independent(seeded(seed, STREAM.warmup + 100), times, scale.maxTokens);
}

export function history(system: string, exchanges: readonly ChatMessage[], user: string): ChatMessage[] {
  return [{ role: "system", content: system }, ...exchanges, { role: "user", content: user }];
}
