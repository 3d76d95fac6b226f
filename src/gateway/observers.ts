import type { FleetRegistry } from "../fleet/index.js";
import type {
  AttemptResult,
  CallSpanRecord,
  FleetReading,
  GatewayMetrics,
  GenAiOperation,
  Logger,
  NodeAddress,
  Telemetry,
} from "../telemetry/index.js";
import type { AttemptReport, CallKind, CallOutcome, OutcomeSubscriber } from "./outcome.js";
import type { Gateway } from "./pipeline.js";

/**
 * Subscribes what tells operators about calls: metrics, the call's span and the access log, each
 * only when it is on. Each turns the one outcome into its own terms; none is on the request path.
 */
export function observeCalls(
  gateway: Gateway,
  telemetry: Telemetry,
  registry: FleetRegistry,
  /** Where access log lines go; undefined when the access log is off. */
  accessTo: Logger | undefined,
): void {
  const addressOf = nodeAddresses(registry);
  if (telemetry.metrics) gateway.onOutcome("metrics", outcomeMetrics(telemetry.metrics, addressOf));
  if (telemetry.exporting.traces) gateway.onOutcome("traces", callSpans(addressOf));
  if (accessTo) gateway.onOutcome("access-log", accessLog(accessTo));
}

const OPERATIONS: Readonly<Record<CallKind, GenAiOperation | undefined>> = {
  chat: "chat",
  completions: "text_completion",
  embeddings: "embeddings",
  // The Responses and Messages APIs are chat by another wire format; infill completes text.
  responses: "chat",
  messages: "chat",
  infill: "text_completion",
  rerank: undefined,
  tokenize: undefined,
  detokenize: undefined,
  apply_template: undefined,
  models: undefined,
  model: undefined,
};

/** One attempt, with what kind of try it was. */
interface Try {
  readonly report: AttemptReport;
  readonly result: AttemptResult;
  /** Raced against the one before it (started while that one still ran): only hedging does that. */
  readonly hedge: boolean;
  /** The node a failover left, when this try is one. */
  readonly failoverFrom: string | undefined;
}

/** The attempts in the order they started (they are reported in the order they ended). */
function tries(outcome: CallOutcome): Try[] {
  const started = [...outcome.attempts].sort((a, b) => a.startedAt - b.startedAt);
  return started.map((report, index) => {
    const before = started[index - 1];
    const hedge = before !== undefined && !report.continuation && report.startedAt < before.endedAt;
    const failover = before !== undefined && !report.continuation && !hedge;
    return { report, result: resultOf(report), hedge, failoverFrom: failover ? before.nodeId : undefined };
  });
}

function resultOf({ observation }: AttemptReport): AttemptResult {
  if (observation.ok) return "ok";
  return observation.nodeFault ? "failed" : "ended";
}

/** The node a call is put down to: the one that answered, else the last one tried. */
function nodeOf(outcome: CallOutcome): string | undefined {
  return outcome.servedBy ?? outcome.attempts.at(-1)?.nodeId;
}

/** A model name is only a label once routing found nodes serving it: a client may send any string. */
function servedModel(outcome: CallOutcome): string | undefined {
  return outcome.routeReason === undefined ? undefined : outcome.model;
}

/** Time from arrival to the first token: the client's first content, or for one-piece answers the node's. */
function ttftMsOf(outcome: CallOutcome): number | undefined {
  if (outcome.ttftMs !== undefined) return outcome.ttftMs;
  const served = outcome.attempts.findLast((attempt) => attempt.observation.ok);
  const nodeTtft = served?.observation.ttftMs;
  return served && nodeTtft !== undefined ? served.startedAt - outcome.startedAt + nodeTtft : undefined;
}

/** Node ids as `server.address`/`server.port`; each node's URL is parsed once. */
function nodeAddresses(registry: FleetRegistry): (id: string) => NodeAddress {
  const known = new Map<string, NodeAddress>();
  return (id) => {
    let address = known.get(id);
    if (!address) {
      const url = URL.parse(registry.get(id)?.record.url ?? "");
      const port = url?.port ? Number(url.port) : url?.protocol === "https:" ? 443 : 80;
      address = { id, address: url?.hostname ?? id, port };
      known.set(id, address);
    }
    return address;
  };
}

/** GenAI and fleet metrics from every outcome. */
export function outcomeMetrics(
  metrics: GatewayMetrics,
  addressOf: (id: string) => NodeAddress,
): OutcomeSubscriber {
  return function recordMetrics(outcome) {
    for (const attempt of tries(outcome)) {
      const { nodeId } = attempt.report;
      metrics.attempt(nodeId, attempt.result, attempt.report.errorCode);
      if (attempt.report.continuation) metrics.continuation(nodeId);
      if (attempt.hedge) metrics.hedge(attempt.result === "ok" && nodeId === outcome.servedBy);
      if (attempt.failoverFrom !== undefined) metrics.failover(attempt.failoverFrom);
    }
    const first = outcome.attempts[0];
    if (outcome.routeReason !== undefined && first) metrics.routed(first.nodeId, outcome.routeReason);
    if (outcome.admission) {
      const refused = outcome.admission.admitted ? undefined : (outcome.errorCode ?? "_OTHER");
      metrics.admissionWait(outcome.admission.waitedMs / 1000, refused);
    }
    if (outcome.cache !== "off") metrics.cacheLookup(outcome.cache);
    const operation = OPERATIONS[outcome.kind];
    if (operation) recordOperation(metrics, operation, outcome, addressOf);
  };
}

function recordOperation(
  metrics: GatewayMetrics,
  operation: GenAiOperation,
  outcome: CallOutcome,
  addressOf: (id: string) => NodeAddress,
): void {
  const node = nodeOf(outcome);
  const ok = outcome.errorCode === undefined && outcome.status < 400;
  const generates = operation !== "embeddings";
  const ttftMs = ok && generates ? ttftMsOf(outcome) : undefined;
  // Tokens count only when a node did the work; a refused call's estimate is not usage.
  const usage = outcome.servedBy === undefined ? undefined : outcome.usage;
  const output = generates ? usage?.completionTokens : undefined;
  metrics.operation({
    operation,
    model: servedModel(outcome),
    node: node === undefined ? undefined : addressOf(node),
    errorType: ok ? undefined : (outcome.errorCode ?? String(outcome.status)),
    durationS: outcome.durationMs / 1000,
    ttftS: ttftMs === undefined ? undefined : ttftMs / 1000,
    // The conventions' definition: the time after the first token, over the tokens after it.
    timePerOutputTokenS:
      ttftMs !== undefined && output !== undefined && output > 1
        ? (outcome.durationMs - ttftMs) / (output - 1) / 1000
        : undefined,
    inputTokens: usage?.promptTokens,
    outputTokens: output,
  });
}

/** Ends each call's span, with a child span per attempt. */
export function callSpans(addressOf: (id: string) => NodeAddress): OutcomeSubscriber {
  return function endCallSpan(outcome) {
    if (outcome.trace.recording) outcome.trace.end(spanRecord(outcome, addressOf));
  };
}

function spanRecord(outcome: CallOutcome, addressOf: (id: string) => NodeAddress): CallSpanRecord {
  const usage = outcome.servedBy === undefined ? undefined : outcome.usage;
  return {
    operation: OPERATIONS[outcome.kind] ?? "models",
    model: servedModel(outcome),
    requestId: outcome.requestId,
    tenant: outcome.tenant,
    keyId: outcome.keyId,
    stream: outcome.stream,
    status: outcome.status,
    errorType: outcome.errorCode,
    durationMs: outcome.durationMs,
    ttftMs: outcome.ttftMs,
    routeReason: outcome.routeReason,
    servedBy: outcome.servedBy,
    inputTokens: usage?.promptTokens,
    outputTokens: usage?.completionTokens,
    attempts: tries(outcome).map(({ report, result, hedge }) => ({
      node: addressOf(report.nodeId),
      startOffsetMs: report.startedAt - outcome.startedAt,
      durationMs: report.endedAt - report.startedAt,
      result,
      errorType: report.errorCode,
      ttftMs: report.observation.ttftMs,
      continuation: report.continuation,
      hedge,
    })),
  };
}

const round = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms * 10) / 10);

/** One structured line per call at info level; the key's id, never its secret. */
export function accessLog(log: Logger): OutcomeSubscriber {
  return function logCall(outcome) {
    log.info("request", {
      requestId: outcome.requestId,
      kind: outcome.kind,
      stream: outcome.stream,
      keyId: outcome.keyId ?? null,
      tenant: outcome.tenant,
      model: outcome.model ?? null,
      node: nodeOf(outcome) ?? null,
      attempts: outcome.attempts.length,
      status: outcome.status,
      code: outcome.errorCode ?? null,
      promptTokens: outcome.usage?.promptTokens ?? null,
      completionTokens: outcome.usage?.completionTokens ?? null,
      usage: outcome.usage?.source ?? null,
      ttftMs: round(ttftMsOf(outcome)),
      durationMs: round(outcome.durationMs),
      bytes: outcome.bytes,
      cache: outcome.cache,
      route: outcome.routeReason ?? null,
      traceparent: outcome.trace.traceparent ?? null,
    });
  };
}

/** The fleet now, for the gauges read at each collection. */
export function fleetReading(registry: FleetRegistry, queueDepth: number): FleetReading {
  return {
    queueDepth,
    nodes: registry.all().map((entry) => ({
      id: entry.id,
      state: entry.state,
      up: entry.state === "healthy" && entry.breaker !== "open",
      breaker: entry.breaker,
      inFlight: entry.inFlight,
      slotsTotal: entry.slotsTotal,
      slotsBusy: entry.slotsBusy,
      deferred: entry.deferred,
    })),
  };
}
