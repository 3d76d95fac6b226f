import type { Logger } from "../telemetry/index.js";
import {
  healthVerdict,
  namesOf,
  parseMetrics,
  parseModelCards,
  parseProps,
  parseSlots,
} from "./llama-probes.js";
import type { NodeEntry } from "./node-entry.js";
import type { FleetRegistry } from "./registry.js";
import type { NodeRecord } from "./types.js";

export interface ProbeResponse {
  readonly status: number;
  readonly body: string;
  readonly elapsedMs: number;
}

/** How probes reach a node; the upstream module implements it over its connection pools. */
export interface ProbeTransport {
  get(node: NodeRecord, path: string, timeoutMs: number): Promise<ProbeResponse>;
  /** A JSON POST, for the verification canary. */
  post(node: NodeRecord, path: string, body: string, timeoutMs: number): Promise<ProbeResponse>;
}

export interface ProberOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** Re-read the model list every this many rounds, so a node that swaps models is noticed. */
const MODELS_EVERY_ROUNDS = 15;

/**
 * Active health checks with llama.cpp semantics. Each round probes every node in parallel:
 * /health decides the verdict (and measures the round trip), then the model list, slots and metrics
 * refresh what routing knows. Probes never throw; a broken node is just a failed verdict.
 */
export class Prober {
  private timer: NodeJS.Timeout | undefined;
  private round = 0;
  private readonly metricsUnsupported = new Set<string>();
  private readonly propsRead = new Set<string>();

  constructor(
    private readonly registry: FleetRegistry,
    private readonly transport: ProbeTransport,
    private readonly options: ProberOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.probeAll().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.options.intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async probeAll(): Promise<void> {
    this.round += 1;
    await Promise.all(
      this.registry
        .all()
        .filter((entry) => entry.probed)
        .map((entry) => this.probe(entry)),
    );
  }

  private async probe(entry: NodeEntry): Promise<void> {
    const health = await this.fetch(entry, "/health");
    let verdict = health ? healthVerdict(health.status, health.body) : "failed";
    if (health && verdict !== "failed") entry.observeRtt(health.elapsedMs);
    if (verdict === "ok" && !(await this.refreshModels(entry))) verdict = "failed";
    if (verdict === "ok") await this.refreshCapacity(entry);
    entry.lastProbeAt = Date.now();
    entry.lastError = verdict === "failed" ? describe(health) : undefined;
    this.registry.recordProbe(entry, verdict);
  }

  private async refreshModels(entry: NodeEntry): Promise<boolean> {
    if (entry.record.declaredModels) return true;
    if (entry.models.length > 0 && this.round % MODELS_EVERY_ROUNDS !== 0) return true;
    const response = await this.fetch(entry, "/v1/models");
    const cards = response?.status === 200 ? parseModelCards(response.body) : undefined;
    const models = cards && namesOf(cards);
    if (!cards || !models || models.length === 0) return false;
    entry.setModels(models, cards);
    return true;
  }

  private async refreshCapacity(entry: NodeEntry): Promise<void> {
    const id = entry.id;
    const [props, slots, metrics] = await Promise.all([
      this.propsRead.has(id) ? undefined : this.fetch(entry, "/props"),
      this.fetch(entry, "/slots"),
      this.metricsUnsupported.has(id) ? undefined : this.fetch(entry, "/metrics"),
    ]);
    if (props?.status === 200) {
      entry.updateCapacity(parseProps(props.body));
      this.propsRead.add(id);
    }
    if (slots?.status === 200) entry.updateCapacity(parseSlots(slots.body));
    // llama-server answers 501 when started without --metrics; stop asking.
    if (metrics?.status === 501) this.metricsUnsupported.add(id);
    else if (metrics?.status === 200) entry.updateCapacity(parseMetrics(metrics.body));
  }

  private async fetch(entry: NodeEntry, path: string): Promise<ProbeResponse | undefined> {
    try {
      return await this.transport.get(entry.record, path, this.options.timeoutMs);
    } catch (err) {
      this.log.debug("probe failed", { node: entry.id, path, error: (err as Error).message });
      return undefined;
    }
  }
}

function describe(response: ProbeResponse | undefined): string {
  if (!response) return "unreachable";
  return `HTTP ${response.status}: ${response.body.slice(0, 200)}`;
}
