import type { NodeView } from "../routing/types.js";
import { type HealthThresholds, HealthTracker } from "./health.js";
import { HeldConversations } from "./held-conversations.js";
import type { ModelCard } from "./llama-probes.js";
import { type PrefillSample, PrefillWork } from "./prefill-work.js";
import { DecayingAverage, DecayingRate } from "./stats.js";
import type { Admission, HealthState, NodeRecord } from "./types.js";

const LATENCY_HALF_LIFE_MS = 30_000;
const ERROR_HALF_LIFE_MS = 20_000;

/** What one finished request taught us about its node. */
export interface RequestObservation {
  readonly ok: boolean;
  /** True when the failure was the node's doing (5xx, connection, timeout, malformed), not the client's. */
  readonly nodeFault: boolean;
  readonly ttftMs?: number | undefined;
  readonly interTokenMs?: number | undefined;
  readonly prefill?: PrefillSample | undefined;
  /** How long the node took over the whole request, for a complete answer. */
  readonly serviceMs?: number | undefined;
}

/** What the node's own endpoints said about its capacity and load. */
export interface CapacityReading {
  readonly slotsTotal?: number | undefined;
  readonly slotsBusy?: number | undefined;
  readonly deferred?: number | undefined;
}

/**
 * One node's live record. It implements `NodeView` with getters, so routing reads current values
 * without a copy being made per request.
 */
export class NodeEntry implements NodeView {
  readonly health: HealthTracker;
  private servedModels: readonly string[];
  /** The node's own listing of its models (aliases, meta), when it has been read. */
  modelCards: readonly ModelCard[] = [];
  private readonly ttft = new DecayingAverage(LATENCY_HALF_LIFE_MS);
  private readonly interToken = new DecayingAverage(LATENCY_HALF_LIFE_MS);
  private readonly prefill = new PrefillWork(LATENCY_HALF_LIFE_MS);
  private readonly service = new DecayingAverage(LATENCY_HALF_LIFE_MS);
  private readonly held: HeldConversations;
  private readonly rtt = new DecayingAverage(LATENCY_HALF_LIFE_MS);
  private readonly errors = new DecayingRate(ERROR_HALF_LIFE_MS);
  private active = 0;
  private capacity: {
    slotsTotal: number | undefined;
    slotsBusy: number | undefined;
    deferred: number | undefined;
  };
  private foreign: { load: number; at: number } | undefined;
  /** The node's circuit breaker as last reported; an open breaker keeps the node out of routing. */
  breaker: "closed" | "open" | "half-open" = "closed";
  lastProbeAt: number | undefined;
  lastError: string | undefined;
  /** Configured nodes are trusted as they are; registered ones start on probation. */
  admission: Admission;
  /** Why verification last failed (or what it is waiting for), shown in /admin/nodes. */
  admissionReason: string | undefined;
  /** A draining node takes no new requests; the ones it has run to their end. */
  draining = false;

  constructor(
    readonly record: NodeRecord,
    thresholds: HealthThresholds,
    private readonly clock: () => number,
  ) {
    this.health = new HealthTracker(thresholds);
    this.admission = record.registered ? "probation" : "verified";
    this.admissionReason = record.registered ? "awaiting verification" : undefined;
    this.servedModels = record.declaredModels ?? [];
    this.capacity = { slotsTotal: record.declaredSlots, slotsBusy: undefined, deferred: undefined };
    this.held = new HeldConversations(clock);
  }

  get id(): string {
    return this.record.id;
  }
  get region(): string | undefined {
    return this.record.region;
  }
  get location() {
    return this.record.location;
  }
  get models(): readonly string[] {
    return this.servedModels;
  }
  get state(): HealthState {
    return this.health.current;
  }
  get inFlight(): number {
    return this.active;
  }
  get slotsTotal(): number | undefined {
    return this.capacity.slotsTotal;
  }
  /** The node's busy slots can lag behind; our own in-flight count is a floor for it. */
  get slotsBusy(): number {
    return Math.max(
      this.capacity.slotsBusy ?? 0,
      Math.min(this.active, this.capacity.slotsTotal ?? this.active),
    );
  }
  get deferred(): number {
    return this.capacity.deferred ?? 0;
  }
  get ttftMs(): number | undefined {
    return this.ttft.value;
  }
  get interTokenMs(): number | undefined {
    return this.interToken.value;
  }
  get prefillTokensPerSec(): number | undefined {
    return this.prefill.tokensPerSec;
  }
  get pendingPrefillTokens(): number {
    return this.prefill.tokens;
  }
  get prefillingRequests(): number {
    return this.prefill.requests;
  }
  get prefillSharing(): number {
    return this.prefill.sharing;
  }
  get foreignLoad(): number | undefined {
    return this.foreign?.load;
  }
  get probedAt(): number | undefined {
    return this.foreign?.at;
  }
  get serviceMs(): number | undefined {
    return this.service.value;
  }
  get evictionRisk(): number {
    return this.held.evictionRisk(this.capacity.slotsTotal ?? 1);
  }
  get rttMs(): number | undefined {
    return this.rtt.value;
  }
  get errorRate(): number {
    return this.errors.valueAt(this.clock());
  }

  /** Routable, health aside: verified and not draining. */
  get admitted(): boolean {
    return this.admission === "verified" && !this.draining;
  }

  /**
   * Whether health probes should reach this node. A registered node's agent reports its load with
   * each heartbeat, so a healthy one is not probed: at fleet scale, replicas check only what they
   * need to trust (a node that failed requests, until it answers again).
   */
  get probed(): boolean {
    return !this.record.registered || (this.admission === "verified" && this.state !== "healthy");
  }

  setModels(models: readonly string[], cards: readonly ModelCard[] = []): void {
    this.modelCards = cards;
    if (this.record.declaredModels === undefined) this.servedModels = models;
  }

  /** A reading without a positive slot count leaves the count as it was: zero slots would mean "always full". */
  updateCapacity(reading: CapacityReading): void {
    const slotsTotal =
      reading.slotsTotal !== undefined && reading.slotsTotal > 0 ? reading.slotsTotal : undefined;
    this.capacity = {
      slotsTotal: this.record.declaredSlots ?? slotsTotal ?? this.capacity.slotsTotal,
      slotsBusy: reading.slotsBusy ?? this.capacity.slotsBusy,
      deferred: reading.deferred ?? this.capacity.deferred,
    };
    if (reading.slotsBusy !== undefined || reading.deferred !== undefined) {
      // What the node reports beyond our own requests at this moment is other gateways' work.
      const reported = (this.capacity.slotsBusy ?? 0) + (this.capacity.deferred ?? 0);
      this.foreign = { load: Math.max(0, reported - this.active), at: this.clock() };
    }
  }

  /** The node served this conversation: one of its slots now holds the conversation's prefix. */
  holdConversation(key: string): void {
    this.held.touch(key, this.capacity.slotsTotal ?? 1);
  }

  observeRtt(ms: number): void {
    this.rtt.observe(ms, this.clock());
  }

  /** A request with `prefillTokens` to evaluate starts; returns the prompt work pending before it. */
  begin(prefillTokens = 0): number {
    this.active += 1;
    return this.prefill.begin(prefillTokens);
  }

  /** That request's prompt is evaluated: its first token came, or it ended before one did. */
  prefilled(prefillTokens: number): void {
    this.prefill.done(prefillTokens);
  }

  /** A request on this node is over: its load goes at once, its statistics come with the call's settle. */
  end(): void {
    this.active = Math.max(0, this.active - 1);
  }

  observe(observation: RequestObservation): void {
    const now = this.clock();
    if (observation.ttftMs !== undefined) this.ttft.observe(observation.ttftMs, now);
    if (observation.interTokenMs !== undefined) this.interToken.observe(observation.interTokenMs, now);
    if (observation.prefill !== undefined) this.prefill.observe(observation.prefill, now);
    if (observation.serviceMs !== undefined) this.service.observe(observation.serviceMs, now);
    if (observation.ok || observation.nodeFault) this.errors.observe(!observation.ok, now);
  }
}
