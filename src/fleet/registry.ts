import type { FleetSnapshot } from "../routing/types.js";
import type { HealthThresholds, ProbeVerdict } from "./health.js";
import type { ModelCard } from "./llama-probes.js";
import { NodeEntry } from "./node-entry.js";
import type { NodeRecord } from "./types.js";

const SNAPSHOT_MAX_AGE_MS = 250;

export interface RegistryOptions {
  readonly thresholds: HealthThresholds;
  readonly clock: () => number;
  /** Told whenever a node changes health state, for logs and metrics. */
  readonly onHealthChange?: (entry: NodeEntry, from: string) => void;
}

export interface ModelListing {
  readonly id: string;
  readonly nodes: readonly string[];
  /** The other names of the model, as its node lists them (`--alias a,b`). */
  readonly aliases: readonly string[];
  /** llama-server's `meta` (n_ctx_train, n_params, size...), from the first node listing it. */
  readonly meta: Readonly<Record<string, unknown>> | undefined;
  /** Unix seconds when this gateway first saw a node serve it (llama-server's own is "now"). */
  readonly created: number;
}

/**
 * The live set of nodes. Routing gets a snapshot of the healthy ones; the list is rebuilt only when a
 * node changes health or breaker state, never per request.
 */
export class FleetRegistry {
  private readonly entries = new Map<string, NodeEntry>();
  private healthyCache: readonly NodeEntry[] | undefined;
  private published: FleetSnapshot | undefined;
  private readonly firstListed = new Map<string, number>();

  constructor(
    records: readonly NodeRecord[],
    private readonly options: RegistryOptions,
  ) {
    for (const record of records) this.add(record);
  }

  add(record: NodeRecord): NodeEntry {
    if (this.entries.has(record.id)) throw new Error(`node '${record.id}' is already registered`);
    const entry = new NodeEntry(record, this.options.thresholds, this.options.clock);
    this.entries.set(record.id, entry);
    this.healthyCache = undefined;
    return entry;
  }

  /** A registered node left: no new request goes to it; calls already on it hold their entry and finish. */
  remove(id: string): boolean {
    const removed = this.entries.delete(id);
    if (removed) this.healthyCache = undefined;
    return removed;
  }

  /** Admission or draining changed: routing's list is rebuilt. */
  admissionChanged(): void {
    this.healthyCache = undefined;
  }

  get(id: string): NodeEntry | undefined {
    return this.entries.get(id);
  }

  all(): readonly NodeEntry[] {
    return [...this.entries.values()];
  }

  healthy(): readonly NodeEntry[] {
    this.healthyCache ??= this.all().filter(
      (entry) => entry.state === "healthy" && entry.breaker !== "open" && entry.admitted,
    );
    return this.healthyCache;
  }

  /**
   * The same snapshot object is handed out until the healthy set changes or it is older than
   * SNAPSHOT_MAX_AGE_MS: routing caches per-snapshot work (eligibility, leaders), and the node views
   * inside are live, so republishing per request would only redo that work.
   */
  snapshot(): FleetSnapshot {
    const now = this.options.clock();
    const nodes = this.healthy();
    if (!this.published || this.published.nodes !== nodes || now - this.published.now > SNAPSHOT_MAX_AGE_MS) {
      this.published = { nodes, now };
    }
    return this.published;
  }

  recordProbe(entry: NodeEntry, verdict: ProbeVerdict): void {
    this.track(entry, () => entry.health.record(verdict));
  }

  /** A request could not connect: the node is probably gone, so count it like a failed probe. */
  recordConnectFailure(id: string): void {
    const entry = this.entries.get(id);
    if (entry) this.track(entry, () => entry.health.recordConnectFailure());
  }

  /** A node's breaker changed state: an open breaker takes it out of routing until half-open. */
  setBreakerState(id: string, state: NodeEntry["breaker"]): void {
    const entry = this.entries.get(id);
    if (!entry || entry.breaker === state) return;
    entry.breaker = state;
    this.healthyCache = undefined;
  }

  /** The models healthy nodes serve, each with the nodes that serve it. */
  models(): readonly ModelListing[] {
    const byModel = new Map<string, { nodes: string[]; card: ModelCard | undefined }>();
    for (const entry of this.healthy()) {
      for (const model of entry.models) {
        const listing = byModel.get(model) ?? { nodes: [], card: undefined };
        listing.nodes.push(entry.id);
        listing.card ??= entry.modelCards.find((card) => card.id === model || card.aliases.includes(model));
        byModel.set(model, listing);
      }
    }
    const now = Math.floor(Date.now() / 1000);
    return [...byModel]
      .map(([id, { nodes, card }]) => {
        if (!this.firstListed.has(id)) this.firstListed.set(id, now);
        const names = card ? [card.id, ...card.aliases] : [];
        return {
          id,
          nodes,
          aliases: names.filter((name) => name !== id),
          meta: card?.meta,
          created: this.firstListed.get(id) ?? now,
        };
      })
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  private track(entry: NodeEntry, change: () => boolean): void {
    const from = entry.state;
    if (change()) {
      this.healthyCache = undefined;
      this.options.onHealthChange?.(entry, from);
    }
  }
}
