import { EventEmitter } from "node:events";
import CircuitBreaker from "opossum";
import { errors } from "../errors.js";
import { NodeFault } from "../upstream/index.js";

export interface BreakerSettings {
  /** Open when node faults exceed this share of calls in the rolling window. */
  readonly errorThresholdPercentage: number;
  /** Calls needed in the window before the error rate may open the breaker. */
  readonly volumeThreshold: number;
  readonly rollingWindowMs: number;
  readonly rollingBuckets: number;
  /** How long an open breaker waits before letting one trial call through (half-open). */
  readonly resetTimeoutMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: Readonly<BreakerSettings> = Object.freeze({
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  rollingWindowMs: 10_000,
  rollingBuckets: 10,
  resetTimeoutMs: 5_000,
});

export type BreakerState = "closed" | "open" | "half-open";

/** One node's breaker as /admin/nodes shows it; counts cover the rolling window. */
export interface BreakerSnapshot {
  readonly state: BreakerState;
  readonly failures: number;
  readonly successes: number;
  readonly rejects: number;
}

export type BreakerStateListener = (nodeId: string, state: BreakerState) => void;

export interface NodeBreakersOptions {
  readonly settings?: Partial<BreakerSettings>;
  /** Which rejections count against the node; the rest count as calls the node handled. */
  readonly isNodeFault?: (err: unknown) => boolean;
  readonly clock?: () => number;
}

type Work = () => Promise<unknown>;

interface Slot {
  readonly breaker: CircuitBreaker<[Work], unknown>;
  /** We rotate the window's buckets ourselves, so that a closing breaker can start from a clean window. */
  readonly rotation: EventEmitter;
  openedAt: number;
}

/**
 * One opossum breaker per node, created on first use. Only node faults (5xx, connection errors,
 * timeouts, malformed responses) move a breaker; a client's bad request or departure never does.
 */
export class NodeBreakers {
  readonly settings: Readonly<BreakerSettings>;
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<BreakerStateListener>();
  private readonly isNodeFault: (err: unknown) => boolean;
  private readonly clock: () => number;
  private rotationTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: NodeBreakersOptions = {}) {
    this.settings = Object.freeze({ ...DEFAULT_BREAKER_SETTINGS, ...options.settings });
    this.isNodeFault = options.isNodeFault ?? ((err) => err instanceof NodeFault);
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Runs `work` through the node's breaker. `work` should resolve for outcomes that say the node is
   * fine (including a client's 4xx) and reject with a node fault otherwise. Throws `node_breaker_open`
   * at once, without calling `work`, while the breaker is open or its half-open trial is in flight;
   * nothing was sent, so the next node can be tried at no cost.
   */
  async run<T>(nodeId: string, work: () => Promise<T>): Promise<T> {
    if (this.stopped) return work();
    const slot = this.slotFor(nodeId);
    let result: unknown;
    try {
      result = await slot.breaker.fire(work);
    } catch (err) {
      if (err instanceof Error && CircuitBreaker.isOurError(err)) {
        throw errors.nodeBreakerOpen(nodeId, this.retryAfterSeconds(slot));
      }
      throw err;
    }
    // `fire` resolves with what `work` resolved; opossum's typing cannot carry T per call.
    return result as T;
  }

  state(nodeId: string): BreakerState {
    const slot = this.slots.get(nodeId);
    return slot ? stateOf(slot.breaker) : "closed";
  }

  /**
   * True when a call would be refused right now: open, or half-open with its one trial already in
   * flight. Routing excludes these nodes; a half-open node waiting for its trial stays routable.
   */
  isOpen(nodeId: string): boolean {
    const breaker = this.slots.get(nodeId)?.breaker;
    if (!breaker) return false;
    return breaker.opened || (breaker.halfOpen && !breaker.pendingClose);
  }

  /** Told of every transition; returns a function that stops the telling. */
  onStateChange(listener: BreakerStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): Record<string, BreakerSnapshot> {
    const out: Record<string, BreakerSnapshot> = {};
    for (const [nodeId, slot] of this.slots) {
      const stats = slot.breaker.stats;
      out[nodeId] = {
        state: stateOf(slot.breaker),
        failures: stats.failures,
        successes: stats.successes,
        rejects: stats.rejects,
      };
    }
    return out;
  }

  /** Drops a node that left the fleet, so memory follows the fleet's size. */
  remove(nodeId: string): void {
    this.slots.get(nodeId)?.breaker.shutdown();
    this.slots.delete(nodeId);
    if (this.slots.size === 0) this.stopRotation();
  }

  /** Stops every timer; later calls run unprotected, which only matters while draining. */
  shutdown(): void {
    this.stopped = true;
    for (const slot of this.slots.values()) slot.breaker.shutdown();
    this.slots.clear();
    this.listeners.clear();
    this.stopRotation();
  }

  private slotFor(nodeId: string): Slot {
    const existing = this.slots.get(nodeId);
    if (existing) return existing;
    const rotation = new EventEmitter();
    const breaker = new CircuitBreaker<[Work], unknown>((work) => work(), {
      name: nodeId,
      // The gateway enforces its own phase timeouts; a stream's promise may rightly last minutes.
      timeout: false,
      errorThresholdPercentage: this.settings.errorThresholdPercentage,
      volumeThreshold: this.settings.volumeThreshold,
      rollingCountTimeout: this.settings.rollingWindowMs,
      rollingCountBuckets: this.settings.rollingBuckets,
      resetTimeout: this.settings.resetTimeoutMs,
      errorFilter: (err: unknown) => !this.isNodeFault(err),
      // Latency lists grow with traffic and snapshots need a timer; neither is used here.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      rotateBucketController: rotation,
    });
    const slot: Slot = { breaker, rotation, openedAt: 0 };
    breaker.on("open", () => {
      slot.openedAt = this.clock();
      this.emit(nodeId, "open");
    });
    breaker.on("halfOpen", () => this.emit(nodeId, "half-open"));
    breaker.on("close", () => {
      // Failures from before the outage would otherwise re-open a freshly recovered node.
      for (let i = 0; i < this.settings.rollingBuckets; i++) rotation.emit("rotate");
      this.emit(nodeId, "closed");
    });
    this.slots.set(nodeId, slot);
    this.startRotation();
    return slot;
  }

  private emit(nodeId: string, state: BreakerState): void {
    for (const listener of this.listeners) listener(nodeId, state);
  }

  private retryAfterSeconds(slot: Slot): number {
    const remainingMs = slot.openedAt + this.settings.resetTimeoutMs - this.clock();
    return Math.max(1, Math.ceil(remainingMs / 1000));
  }

  private startRotation(): void {
    if (this.rotationTimer) return;
    const bucketMs = Math.max(1, Math.floor(this.settings.rollingWindowMs / this.settings.rollingBuckets));
    this.rotationTimer = setInterval(() => {
      for (const slot of this.slots.values()) slot.rotation.emit("rotate");
    }, bucketMs);
    this.rotationTimer.unref();
  }

  private stopRotation(): void {
    clearInterval(this.rotationTimer);
    this.rotationTimer = undefined;
  }
}

function stateOf(breaker: CircuitBreaker<[Work], unknown>): BreakerState {
  if (breaker.opened) return "open";
  if (breaker.halfOpen) return "half-open";
  return "closed";
}
