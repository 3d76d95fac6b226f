import { setTimeout as sleep } from "node:timers/promises";
import { type ChatMessage, type ChatOutcome, streamChat } from "./client.js";
import type { BenchFleet } from "./fleet.js";
import { type Arrival, type Conversation, history, type WorkloadPlan } from "./workloads.js";

/** One request as measured, with when it was sent relative to the measured window's start. */
export interface RequestRecord extends ChatOutcome {
  readonly sentAtMs: number;
  /** Sent while the designated node was slowed down. */
  readonly duringSlowdown: boolean;
  /** For conversation turns: the conversation's position in the plan and the turn's, from 0. */
  readonly conversation?: number | undefined;
  readonly turn?: number | undefined;
}

interface Clock {
  /** Milliseconds since the measured window started (negative during warm-up). */
  now(): number;
  slowSince: number | undefined;
  readonly ttftTimeoutMs: number;
}

/** Sleeps until `atMs` on the run's clock; late timers simply send at once. */
async function until(clock: Clock, atMs: number): Promise<void> {
  const wait = atMs - clock.now();
  if (wait > 0) await sleep(wait);
}

async function send(
  fleet: BenchFleet,
  clock: Clock,
  arrival: Arrival,
  records: RequestRecord[] | undefined,
  position: Pick<RequestRecord, "conversation" | "turn"> = {},
) {
  const sentAtMs = clock.now();
  const duringSlowdown = clock.slowSince !== undefined && sentAtMs >= clock.slowSince;
  const outcome = await streamChat(fleet.baseUrl, arrival.request, clock.ttftTimeoutMs);
  records?.push({ ...outcome, sentAtMs, duringSlowdown, ...position });
  return outcome;
}

/** Open loop: every arrival is sent at its time, however many are still running. */
async function runArrivals(
  fleet: BenchFleet,
  clock: Clock,
  arrivals: readonly Arrival[],
  records: RequestRecord[] | undefined,
): Promise<void> {
  const running: Promise<unknown>[] = [];
  for (const arrival of arrivals) {
    await until(clock, arrival.atMs);
    running.push(send(fleet, clock, arrival, records));
  }
  await Promise.all(running);
}

/**
 * Each turn carries the conversation so far, answers included, as chat clients do. A failed turn is
 * dropped from the history and the user moves on, so every policy sends the same number of requests.
 */
async function runConversation(
  fleet: BenchFleet,
  clock: Clock,
  conversation: Conversation,
  shape: { readonly model: string; readonly maxTokens: number },
  records: RequestRecord[],
): Promise<void> {
  await until(clock, conversation.startMs);
  const exchanges: ChatMessage[] = [];
  for (const [index, turn] of conversation.turns.entries()) {
    const opening = exchanges.length === 0 && conversation.context !== undefined;
    const user = opening ? `${conversation.context}\n\n${turn.user}` : turn.user;
    const messages = history(conversation.system, exchanges, user);
    const outcome = await send(
      fleet,
      clock,
      { atMs: clock.now(), request: { ...shape, messages } },
      records,
      {
        conversation: conversation.id,
        turn: index,
      },
    );
    if (outcome.ok)
      exchanges.push({ role: "user", content: user }, { role: "assistant", content: outcome.text });
    await sleep(turn.thinkMs);
  }
}

/** One user at a time per lane: a lane's conversations run one after another. */
async function runLanes(
  fleet: BenchFleet,
  clock: Clock,
  conversations: readonly Conversation[],
  shape: { readonly model: string; readonly maxTokens: number },
  records: RequestRecord[],
): Promise<void> {
  const lanes = new Map<number, Conversation[]>();
  for (const conversation of conversations) {
    lanes.set(conversation.lane, [...(lanes.get(conversation.lane) ?? []), conversation]);
  }
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const conversation of lane) await runConversation(fleet, clock, conversation, shape, records);
    }),
  );
}

async function scheduleSlowdown(fleet: BenchFleet, clock: Clock, plan: WorkloadPlan): Promise<void> {
  if (!plan.slowdown) return;
  await until(clock, plan.slowdown.atMs);
  clock.slowSince = clock.now();
  fleet.setSlowdownMs(plan.slowdown.delayMs);
}

/** Warm-up traffic first (not recorded), then the plan; returns every measured request. */
export async function drive(
  fleet: BenchFleet,
  plan: WorkloadPlan,
  warmup: readonly Arrival[],
  warmupMs: number,
  model: string,
  ttftTimeoutMs: number,
): Promise<RequestRecord[]> {
  const origin = performance.now() + warmupMs;
  const clock: Clock = { now: () => performance.now() - origin, slowSince: undefined, ttftTimeoutMs };
  const withModel = (arrival: Arrival): Arrival => ({ ...arrival, request: { ...arrival.request, model } });
  const warming = runArrivals(
    fleet,
    clock,
    warmup.map((a) => withModel({ ...a, atMs: a.atMs - warmupMs })),
    undefined,
  );
  const records: RequestRecord[] = [];
  await Promise.all([
    warming,
    scheduleSlowdown(fleet, clock, plan),
    runArrivals(fleet, clock, plan.arrivals.map(withModel), records),
    runLanes(fleet, clock, plan.conversations, { model, maxTokens: plan.maxTokens }, records),
  ]);
  return records;
}
