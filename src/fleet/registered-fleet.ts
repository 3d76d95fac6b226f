import type { LatLon } from "../geo/index.js";
import type { Logger } from "../telemetry/index.js";
import type { NodeDirectory, StoredNode } from "./directory.js";
import type { NodeEntry } from "./node-entry.js";
import type { ProbeTransport } from "./prober.js";
import type { FleetRegistry } from "./registry.js";
import type { NodeRecord } from "./types.js";
import { type NodeProps, sameProps, verifyNode } from "./verifier.js";

export interface RegisteredFleetOptions {
  readonly directory: NodeDirectory;
  readonly registry: FleetRegistry;
  readonly transport: ProbeTransport;
  readonly syncIntervalMs: number;
  readonly reverifyIntervalMs: number;
  readonly verifyTimeoutMs: number;
  /** Where a registration's region or coordinates put the node. */
  readonly locate: (node: StoredNode["node"]) => LatLon | undefined;
  readonly log: Logger;
  /** A registered node left this replica's registry (its connections can go). */
  readonly onLeave?: (record: NodeRecord) => void;
  readonly clock?: () => number;
}

/** A node that failed verification is tried again this soon (it may still have been loading). */
const RETRY_MS = 5000;
/** Verifications running at once, so a thousand joining nodes do not each get a canary at the same instant. */
const VERIFY_CONCURRENCY = 16;

interface Known {
  readonly entry: NodeEntry;
  readonly registeredAt: number;
  seen: StoredNode;
  verifying: boolean;
  /** The props the agent last reported; a change means the node now runs something else. */
  reportedProps: NodeProps | undefined;
  nextVerifyAt: number;
}

/**
 * Keeps this replica's registry in step with the shared directory: every sync reads it once, adds
 * joiners (on probation until verified), applies drains and heartbeat readings, and removes nodes
 * that left or whose heartbeats stopped. Each replica verifies what it routes to by itself.
 */
export class RegisteredFleet {
  private readonly known = new Map<string, Known>();
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private readonly waiting: Known[] = [];

  constructor(private readonly options: RegisteredFleetOptions) {
    this.clock = options.clock ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.sync().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.options.syncIntervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async sync(): Promise<void> {
    let records: StoredNode[];
    try {
      records = await this.options.directory.list();
    } catch (err) {
      // A store outage keeps the fleet as last seen: dropping every node would be worse than stale.
      this.options.log.warn("fleet sync failed", { error: (err as Error).message });
      return;
    }
    const now = this.clock();
    const present = new Set<string>();
    for (const record of records) {
      present.add(record.node.id);
      this.apply(record, now);
    }
    for (const [id, known] of this.known) {
      if (present.has(id)) continue;
      this.known.delete(id);
      this.leave(known);
      this.options.log.info("node left", { node: id, draining: known.entry.draining });
    }
  }

  private apply(record: StoredNode, now: number): void {
    const { registry } = this.options;
    const id = record.node.id;
    let known = this.known.get(id);
    if (known && known.registeredAt !== record.registered_at) {
      this.leave(known);
      known = undefined;
    }
    if (!known) {
      const existing = registry.get(id);
      // A configured node keeps its id; the registration route refuses it, this covers a replica configured otherwise.
      if (existing && !this.known.has(id)) return;
      known = this.join(record, now);
    } else if (known.seen === record) {
      this.maybeVerify(known, now);
      return;
    }
    known.seen = record;
    const { entry } = known;
    if (entry.draining !== record.draining) {
      entry.draining = record.draining;
      registry.admissionChanged();
    }
    const reading = record.heartbeat?.reading;
    if (reading) {
      entry.updateCapacity({
        slotsTotal: reading.slots_total,
        slotsBusy: reading.slots_busy,
        deferred: reading.deferred,
      });
    }
    const props = record.heartbeat?.props;
    // A node that swapped its model or context is verified again at once.
    if (props && known.reportedProps && !sameProps(props, known.reportedProps)) known.nextVerifyAt = now;
    if (props) known.reportedProps = props;
    this.maybeVerify(known, now);
  }

  private leave(known: Known): void {
    this.options.registry.remove(known.entry.id);
    this.options.onLeave?.(known.entry.record);
  }

  private join(record: StoredNode, now: number): Known {
    const { node } = record;
    const entry = this.options.registry.add({
      id: node.id,
      url: node.url,
      region: node.region,
      location: this.options.locate(node),
      apiKey: undefined,
      declaredModels: undefined,
      declaredSlots: node.slots,
      registered: true,
    });
    // What it claims, until verified: a model nobody claims is then 404, not "retry later".
    if (node.models) entry.setModels(node.models);
    const known: Known = {
      entry,
      registeredAt: record.registered_at,
      seen: record,
      verifying: false,
      reportedProps: undefined,
      nextVerifyAt: now,
    };
    this.known.set(node.id, known);
    this.options.log.info("node joined", { node: node.id, url: node.url });
    return known;
  }

  private maybeVerify(known: Known, now: number): void {
    if (known.verifying || now < known.nextVerifyAt) return;
    known.verifying = true;
    this.waiting.push(known);
    this.drainQueue();
  }

  private drainQueue(): void {
    while (this.running < VERIFY_CONCURRENCY && this.waiting.length > 0) {
      const known = this.waiting.shift()!;
      this.running += 1;
      this.verify(known).finally(() => {
        this.running -= 1;
        known.verifying = false;
        this.drainQueue();
      });
    }
  }

  private async verify(known: Known): Promise<void> {
    const { entry } = known;
    const { registry, log } = this.options;
    const verdict = await verifyNode(
      this.options.transport,
      entry.record,
      known.seen.node.models,
      this.options.verifyTimeoutMs,
    );
    // The node left or registered anew while it was being checked: this verdict is about the past.
    if (this.known.get(entry.id) !== known) return;
    const before = entry.admission;
    const beforeReason = entry.admissionReason;
    if (verdict.ok) {
      entry.setModels(verdict.models);
      entry.updateCapacity({ slotsTotal: verdict.props.total_slots });
      entry.admission = "verified";
      entry.admissionReason = undefined;
      known.nextVerifyAt = this.clock() + this.options.reverifyIntervalMs;
      if (entry.state !== "healthy") registry.recordProbe(entry, "ok");
    } else {
      // Never verified stays on probation; verified once and failing now is taken out.
      entry.admission = before === "probation" ? "probation" : "rejected";
      entry.admissionReason = verdict.reason;
      known.nextVerifyAt = this.clock() + RETRY_MS;
    }
    registry.admissionChanged();
    if (before !== entry.admission || beforeReason !== entry.admissionReason) {
      log.info("node verification", {
        node: entry.id,
        admission: entry.admission,
        reason: entry.admissionReason,
      });
    }
  }
}
