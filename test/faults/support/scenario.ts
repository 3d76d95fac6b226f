import type { SimNode } from "../../../src/sim/index.js";
import type { TestFleet } from "../../support/fleet.js";
import { NodeWatch, until } from "./admin.js";
import { FAULTY, GUARD_MS, RESET_TIMEOUT_MS } from "./fleet.js";
import { type RequestRecord, type RequestSpec, requestMix, runConcurrent } from "./load.js";

export interface FaultPhase {
  readonly records: RequestRecord[];
  /** Inference requests the faulty node had received when its breaker was first seen open. */
  readonly requestsAtOpen: number | undefined;
}

/** Runs a burst against a fleet whose faulty node misbehaves, noting when its breaker opens. */
export async function loadWithFault(
  fleet: TestFleet,
  watch: NodeWatch,
  specs: readonly RequestSpec[],
  concurrency: number,
): Promise<FaultPhase> {
  const faulty = fleet.sims[0] as SimNode;
  let requestsAtOpen: number | undefined;
  const spotter = setInterval(() => {
    if (requestsAtOpen === undefined && watch.sawBreaker("open"))
      requestsAtOpen = faulty.stats().completionRequests;
  }, 5);
  try {
    const records = await runConcurrent(fleet.gateway.url, specs, concurrency, { guardMs: GUARD_MS });
    // Generous: `until` returns as soon as the watch, polling every 20 ms, has seen it.
    await until(() => watch.sawBreaker("open"), 5000);
    requestsAtOpen ??= watch.sawBreaker("open") ? faulty.stats().completionRequests : undefined;
    return { records, requestsAtOpen };
  } finally {
    clearInterval(spotter);
  }
}

export interface QuarantinePhase {
  readonly records: RequestRecord[];
  /** Inference requests that reached the faulty node during the phase. */
  readonly reachedFaulty: number;
  /** Half-open trials the breaker could have let through in that time. */
  readonly trialsAllowed: number;
}

/** Traffic while the breaker is open: it should flow around the faulty node (bar half-open trials). */
export async function loadWhileOpen(
  fleet: TestFleet,
  specs: readonly RequestSpec[],
): Promise<QuarantinePhase> {
  const faulty = fleet.sims[0] as SimNode;
  const before = faulty.stats().completionRequests;
  const started = performance.now();
  const records = await runConcurrent(fleet.gateway.url, specs, 5, { guardMs: GUARD_MS });
  const elapsed = performance.now() - started;
  return {
    records,
    reachedFaulty: faulty.stats().completionRequests - before,
    trialsAllowed: Math.floor(elapsed / RESET_TIMEOUT_MS) + 1,
  };
}

export interface Recovery {
  /** Breaker states seen for the faulty node over the whole scenario, in order, without repeats. */
  readonly breakerPath: readonly string[];
  /** The recovered node served a request (it received one and the request succeeded). */
  readonly served: boolean;
  readonly closed: boolean;
}

/**
 * With the fault cleared, waits for the breaker to go half-open on its own (nothing else reaches an
 * open node), then sends requests one at a time until the node has served one and closed.
 */
export async function recover(
  fleet: TestFleet,
  watch: NodeWatch,
  node: SimNode,
  seed: number,
): Promise<Recovery> {
  // Long past the reset timeout: a watch that missed half-open would see the path skip it.
  await until(() => watch.breaker === "half-open", RESET_TIMEOUT_MS + 10_000);
  let served = false;
  const specs = requestMix(12, seed);
  for (const spec of specs) {
    const before = node.stats().completionRequests;
    const [record] = await runConcurrent(fleet.gateway.url, [spec], 1, { guardMs: GUARD_MS });
    if (node.stats().completionRequests > before && record?.outcome.verdict === "success") served = true;
    if (served && (await until(() => watch.breaker === "closed", 2000))) break;
  }
  return { breakerPath: [...watch.breakers], served, closed: watch.breaker === "closed" };
}

/** `sub` appears in `path` in order, not necessarily adjacent. */
export function followsPath(path: readonly string[], sub: readonly string[]): boolean {
  let at = 0;
  for (const step of path) if (step === sub[at]) at += 1;
  return at === sub.length;
}

export function watchFaulty(fleet: TestFleet): NodeWatch {
  return new NodeWatch(fleet.gateway.url, FAULTY).start();
}

/** Every chat stream first, so the faulty node's early share surely includes streams to continue. */
export function streamsFirst(streams: number, rest: number, seed: number): RequestSpec[] {
  const chat = Array.from(
    { length: streams },
    (_, i): RequestSpec => ({
      kind: "chat",
      stream: true,
      maxTokens: 12,
      prompt: `Stream ${i} (${seed}): tell a short story.`,
    }),
  );
  return [...chat, ...requestMix(rest, seed)];
}
