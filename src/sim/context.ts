import type { IncomingHttpHeaders } from "node:http";
import { mulberry32 } from "../seeded-random.js";
import { isFlappedDown, patchFaults } from "./faults.js";
import { SimMetrics } from "./metrics.js";
import type { FaultConfig, ResolvedOptions } from "./options.js";
import { SlotPool } from "./slots.js";
import { Tokenizer } from "./tokenizer.js";

export interface SimStats {
  /** Every HTTP request received, probes included. */
  requestsTotal: number;
  /** Inference requests whose client went away before the response was complete. */
  requestsAborted: number;
  /** Inference requests (completions, chat, embeddings) being handled now. */
  inFlight: number;
  busySlots: number;
  /** Requests waiting for a slot now. */
  deferred: number;
  tokensGenerated: number;
  /** Chat and text completion requests received. */
  completionRequests: number;
  /** Headers of the most recent completion request, to check what a gateway forwards. */
  lastRequestHeaders: IncomingHttpHeaders | null;
}

/** Build string llama-server reports as build_info and system_fingerprint. */
export const BUILD_INFO = "b6000-fleetgate-sim";

/** Everything one node's handlers share. */
export class SimContext {
  readonly pool: SlotPool;
  readonly metrics = new SimMetrics();
  readonly tokenizer = new Tokenizer();
  readonly startedAt = performance.now();
  /** Requests held open by a hang fault: close() ends them instead of waiting forever. */
  readonly stalled = new Set<{ destroy(): void }>();
  /** Drives the error-rate fault, seeded so that a benchmark run can be replayed. */
  readonly random: () => number;
  faults: FaultConfig;
  requestsTotal = 0;
  requestsAborted = 0;
  inFlight = 0;
  tokensGenerated = 0;
  completionRequests = 0;
  lastRequestHeaders: IncomingHttpHeaders | null = null;
  private lastTaskId = -1;

  constructor(readonly options: Readonly<ResolvedOptions>) {
    this.pool = new SlotPool(options.slots);
    this.faults = { ...options.faults };
    this.random = mulberry32(options.seed);
  }

  nextTaskId(): number {
    this.lastTaskId += 1;
    return this.lastTaskId;
  }

  setFaults(patch: unknown): void {
    this.faults = patchFaults(this.faults, patch);
  }

  isLoading(): boolean {
    return performance.now() - this.startedAt < this.options.loadingMs;
  }

  isFlappedDown(): boolean {
    return isFlappedDown(this.faults, performance.now() - this.startedAt);
  }

  stats(): SimStats {
    return {
      requestsTotal: this.requestsTotal,
      requestsAborted: this.requestsAborted,
      inFlight: this.inFlight,
      busySlots: this.pool.busy,
      deferred: this.pool.deferred,
      tokensGenerated: this.tokensGenerated,
      completionRequests: this.completionRequests,
      lastRequestHeaders: this.lastRequestHeaders,
    };
  }
}
