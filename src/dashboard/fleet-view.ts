import type { NodeEntry } from "../fleet/index.js";
import type { CallOutcome } from "../gateway/index.js";
import { percentiles, Ring } from "./ring.js";
import type { DashboardSnapshot, ErrorRow, FleetSummary, NodeRow, UsageRow } from "./snapshot.js";
import { UsageTally } from "./usage.js";
import { SecondWindow } from "./window.js";

const HISTORY_S = 15 * 60;
const RECENT_S = 60;
const CHART_STEP_S = 5;
/** TTFT percentiles are over at most this many recent samples, none older than RECENT_S. */
const TTFT_SAMPLES = 256;
const ERRORS_KEPT = 50;
const USAGE_NAMES = 500;
const USAGE_SHOWN = 10;

export interface FleetViewDeps {
  /** The registry's nodes, read at each snapshot (their state, breaker and load are live). */
  readonly nodes: () => readonly NodeEntry[];
  readonly draining: () => boolean;
  /** Wall-clock milliseconds: the chart's axis is real time. */
  readonly now?: () => number;
}

type Sample = { readonly ms: number; readonly at: number };

/** What the view keeps per node; nodes come only from the registry, so this is bounded by the fleet. */
class NodeTrack {
  readonly counts = new SecondWindow(["attempts", "failures", "served", "tokens"], RECENT_S);
  readonly ttft = new Ring<Sample>(TTFT_SAMPLES);
}

/**
 * The dashboard's model of the fleet, fed by one outcome per call. It is this replica's operator view,
 * not state the replicas share: each gateway shows what it itself served, so it lives in process and
 * never in the store. Everything is bounded (rings and fixed windows) and each outcome costs O(1).
 */
export class FleetView {
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly fleet = new SecondWindow(
    ["requests", "failed", "ttftSum", "ttftCount", "tokens"],
    HISTORY_S,
  );
  private readonly callTtft = new Ring<Sample>(TTFT_SAMPLES);
  private readonly tracks = new Map<string, NodeTrack>();
  private readonly keys = new UsageTally(USAGE_NAMES);
  private readonly tenants = new UsageTally(USAGE_NAMES);
  private readonly errors = new Ring<ErrorRow>(ERRORS_KEPT);
  private requestsTotal = 0;

  constructor(private readonly deps: FleetViewDeps) {
    this.now = deps.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** The settle subscriber (`gateway.onOutcome("dashboard", view.observe)`). */
  readonly observe = (outcome: CallOutcome): void => {
    const now = this.now();
    const second = Math.floor(now / 1000);
    const failed = failedByGateway(outcome);
    // A prompt cache hit made no node work: its stored usage is not the fleet's throughput.
    const used = outcome.cache === "hit" ? undefined : outcome.usage;
    const tokens = used?.completionTokens ?? 0;
    this.requestsTotal += 1;
    this.fleet.add(second, "requests");
    if (failed) this.fleet.add(second, "failed");
    this.fleet.add(second, "tokens", tokens);
    if (outcome.ttftMs !== undefined) {
      this.fleet.add(second, "ttftSum", outcome.ttftMs);
      this.fleet.add(second, "ttftCount");
      this.callTtft.push({ ms: outcome.ttftMs, at: now });
    }
    for (const { nodeId, observation } of outcome.attempts) {
      const track = this.track(nodeId);
      // Counted as the registry counts a node's errors: a failure the client caused is no node's fault.
      if (observation.ok || observation.nodeFault) track.counts.add(second, "attempts");
      if (!observation.ok && observation.nodeFault) track.counts.add(second, "failures");
      if (observation.ttftMs !== undefined) track.ttft.push({ ms: observation.ttftMs, at: now });
    }
    if (outcome.servedBy !== undefined) {
      const track = this.track(outcome.servedBy);
      track.counts.add(second, "served");
      track.counts.add(second, "tokens", tokens);
    }
    const usage = {
      requests: 1,
      errors: outcome.errorCode === undefined ? 0 : 1,
      promptTokens: used?.promptTokens ?? 0,
      completionTokens: tokens,
    };
    this.keys.add(outcome.keyId ?? "(no key)", usage);
    this.tenants.add(outcome.tenant, usage);
    const row = errorRow(outcome, now);
    if (row) this.errors.push(row);
  };

  snapshot(): DashboardSnapshot {
    const now = this.now();
    // The current second is still filling: rates and the chart end with the last whole one.
    const last = Math.floor(now / 1000) - 1;
    const served = [...this.tracks.values()].reduce(
      (sum, t) => sum + t.counts.sum(last, "served", RECENT_S),
      0,
    );
    const ttftSums = this.fleet.series(last, "ttftSum", CHART_STEP_S);
    const ttftCounts = this.fleet.series(last, "ttftCount", CHART_STEP_S);
    return {
      generated_at: new Date(now).toISOString(),
      started_at: new Date(this.startedAt).toISOString(),
      recent_window_s: RECENT_S,
      summary: this.summary(now, last),
      nodes: this.deps.nodes().map((entry) => this.nodeRow(entry, now, last, served)),
      series: {
        start: new Date((last + 1 - HISTORY_S) * 1000).toISOString(),
        step_s: CHART_STEP_S,
        requests_per_s: this.fleet.series(last, "requests", CHART_STEP_S).map((n) => n / CHART_STEP_S),
        ttft_ms: ttftSums.map((sum, i) => (ttftCounts[i] ? sum / ttftCounts[i] : null)),
      },
      usage: { keys: usageRows(this.keys), tenants: usageRows(this.tenants) },
      errors: this.errors.newest(),
    };
  }

  private summary(now: number, last: number): FleetSummary {
    const nodes = this.deps.nodes();
    const requests = this.fleet.sum(last, "requests", RECENT_S);
    const [p50, p95] = recentPercentiles(this.callTtft, now);
    return {
      gateway: this.deps.draining() ? "draining" : "serving",
      nodes: nodes.length,
      healthy: nodes.filter((node) => node.state === "healthy" && node.breaker !== "open").length,
      in_flight: nodes.reduce((sum, node) => sum + node.inFlight, 0),
      slots_busy: nodes.reduce((sum, node) => sum + node.slotsBusy, 0),
      slots_total: nodes.reduce((sum, node) => sum + (node.slotsTotal ?? 0), 0),
      requests_total: this.requestsTotal,
      requests_per_s: requests / RECENT_S,
      tokens_per_s: this.fleet.sum(last, "tokens", RECENT_S) / RECENT_S,
      ttft_p50_ms: p50,
      ttft_p95_ms: p95,
      error_rate: ratio(this.fleet.sum(last, "failed", RECENT_S), requests),
    };
  }

  private nodeRow(entry: NodeEntry, now: number, last: number, fleetServed: number): NodeRow {
    const track = this.tracks.get(entry.id);
    const sum = (field: "attempts" | "failures" | "served" | "tokens") =>
      track ? track.counts.sum(last, field, RECENT_S) : 0;
    const [p50, p95] = track ? recentPercentiles(track.ttft, now) : [null, null];
    return {
      id: entry.id,
      state: entry.state,
      breaker: entry.breaker,
      region: entry.region ?? null,
      models: entry.models,
      slots_busy: entry.slotsBusy,
      slots_total: entry.slotsTotal ?? null,
      in_flight: entry.inFlight,
      ttft_p50_ms: p50,
      ttft_p95_ms: p95,
      tokens_per_s: sum("tokens") / RECENT_S,
      error_rate: ratio(sum("failures"), sum("attempts")),
      share: ratio(sum("served"), fleetServed),
      last_error: entry.lastError ?? null,
    };
  }

  private track(nodeId: string): NodeTrack {
    let track = this.tracks.get(nodeId);
    if (!track) {
      track = new NodeTrack();
      this.tracks.set(nodeId, track);
    }
    return track;
  }
}

/** Whether the call failed other than by the client's doing: a 5xx, or a 200 stream that ended in an error. */
function failedByGateway(outcome: CallOutcome): boolean {
  return outcome.errorCode !== undefined && (outcome.status >= 500 || outcome.status < 400);
}

function errorRow(outcome: CallOutcome, now: number): ErrorRow | undefined {
  const failedAttempt = outcome.attempts.find((attempt) => attempt.errorCode !== undefined);
  const code = outcome.errorCode ?? failedAttempt?.errorCode;
  if (code === undefined) return undefined;
  return {
    at: new Date(now).toISOString(),
    request_id: outcome.requestId,
    status: outcome.status,
    code,
    recovered: outcome.errorCode === undefined,
    model: outcome.model ?? null,
    tenant: outcome.tenant,
    key_id: outcome.keyId ?? null,
    attempts: outcome.attempts.map((attempt) => ({ node: attempt.nodeId, code: attempt.errorCode ?? null })),
  };
}

function recentPercentiles(samples: Ring<Sample>, now: number): [number | null, number | null] {
  const recent = samples.newest().filter((sample) => now - sample.at <= RECENT_S * 1000);
  const [p50, p95] = percentiles(
    recent.map((sample) => sample.ms),
    [0.5, 0.95],
  );
  return [p50 ?? null, p95 ?? null];
}

function usageRows(tally: UsageTally): UsageRow[] {
  return tally.top(USAGE_SHOWN).map((row) => ({
    name: row.name,
    requests: row.requests,
    errors: row.errors,
    prompt_tokens: row.promptTokens,
    completion_tokens: row.completionTokens,
  }));
}

const ratio = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
