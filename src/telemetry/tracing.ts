import {
  type Attributes,
  type HrTime,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { millisToHrTime, parseTraceParent } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import {
  RandomIdGenerator,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import { PROVIDER_NAME, SCOPE } from "./instruments.js";
import type { AttemptResult, NodeAddress } from "./metrics.js";

/** One try on one node, timed from the call's start. */
export interface AttemptSpanRecord {
  readonly node: NodeAddress;
  readonly startOffsetMs: number;
  readonly durationMs: number;
  readonly result: AttemptResult;
  readonly errorType: string | undefined;
  readonly ttftMs: number | undefined;
  readonly continuation: boolean;
  readonly hedge: boolean;
}

/** What the call's span records once the call is over. */
export interface CallSpanRecord {
  /** `gen_ai.operation.name`, or `models` for the listings. */
  readonly operation: string;
  readonly model: string | undefined;
  readonly requestId: string;
  readonly tenant: string;
  readonly keyId: string | undefined;
  readonly stream: boolean;
  readonly status: number;
  readonly errorType: string | undefined;
  readonly durationMs: number;
  readonly ttftMs: number | undefined;
  readonly routeReason: string | undefined;
  readonly servedBy: string | undefined;
  readonly inputTokens: number | undefined;
  readonly outputTokens: number | undefined;
  readonly attempts: readonly AttemptSpanRecord[];
}

/** A call's place in a distributed trace. */
export interface CallTrace {
  /**
   * The W3C traceparent the call sends on to nodes and returns to its client: the gateway's own
   * span, or with tracing off the client's header unchanged (so a traced client stays linked).
   */
  readonly traceparent: string | undefined;
  /** Whether `end` records anything: false when not tracing or not sampled, so the record need not be built. */
  readonly recording: boolean;
  /** Ends the call's span with what the call came to. */
  end(record: CallSpanRecord): void;
}

export interface CallTracer {
  begin(clientTraceparent: string | undefined): CallTrace;
}

const NOTHING_TO_END = () => undefined;
const UNTRACED: CallTrace = { traceparent: undefined, recording: false, end: NOTHING_TO_END };

/** Without an OTLP endpoint nothing is recorded; a valid client traceparent still passes through. */
export const passThroughTracer: CallTracer = {
  begin(clientTraceparent) {
    if (clientTraceparent === undefined || !parseTraceParent(clientTraceparent)) return UNTRACED;
    return { traceparent: clientTraceparent, recording: false, end: NOTHING_TO_END };
  },
};

export interface SpanExport {
  readonly processor: SpanProcessor;
  readonly sampler: Sampler;
  readonly resource: Resource;
}

/**
 * A span per call and a child span per node attempt. Only the ids and the sampling decision are
 * made when the call arrives (the id goes out with the first upstream request and the response
 * headers); the spans themselves are built once the call has settled, from the times its outcome
 * reports, and handed to the batch processor finished. The SDK's live spans would validate and
 * copy every attribute as it is set, twice the cost for nothing that is not already known.
 */
export function otelCallTracer({ processor, sampler, resource }: SpanExport): CallTracer {
  const ids = new RandomIdGenerator();
  return {
    begin(clientTraceparent) {
      const parent = clientTraceparent === undefined ? null : parseTraceParent(clientTraceparent);
      const traceId = parent?.traceId ?? ids.generateTraceId();
      const context = parent
        ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true })
        : ROOT_CONTEXT;
      const sampling = sampler.shouldSample(context, traceId, "call", SpanKind.SERVER, {}, []);
      const sampled = sampling.decision === SamplingDecision.RECORD_AND_SAMPLED;
      const self: SpanContext = {
        traceId,
        spanId: ids.generateSpanId(),
        traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        ...((sampling.traceState ?? parent?.traceState)
          ? { traceState: sampling.traceState ?? parent?.traceState }
          : {}),
      };
      const traceparent = `00-${traceId}-${self.spanId}-${sampled ? "01" : "00"}`;
      if (!sampled) return { traceparent, recording: false, end: NOTHING_TO_END };
      const startMs = performance.timeOrigin + performance.now();
      return {
        traceparent,
        recording: true,
        end(record) {
          const span = { resource, self, parent: parent ?? undefined };
          processor.onEnd(callSpan(span, startMs, record));
          for (const attempt of record.attempts) processor.onEnd(attemptSpan(span, ids, startMs, attempt));
        },
      };
    },
  };
}

interface Lineage {
  readonly resource: Resource;
  readonly self: SpanContext;
  readonly parent: SpanContext | undefined;
}

function callSpan(
  { resource, self, parent }: Lineage,
  startMs: number,
  record: CallSpanRecord,
): ReadableSpan {
  const attributes: Attributes = {
    "gen_ai.operation.name": record.operation,
    "gen_ai.provider.name": PROVIDER_NAME,
    "http.response.status_code": record.status,
    "fleetgate.request_id": record.requestId,
    "fleetgate.tenant": record.tenant,
    "fleetgate.stream": record.stream,
  };
  if (record.model !== undefined) attributes["gen_ai.request.model"] = record.model;
  if (record.inputTokens !== undefined) attributes["gen_ai.usage.input_tokens"] = record.inputTokens;
  if (record.outputTokens !== undefined) attributes["gen_ai.usage.output_tokens"] = record.outputTokens;
  if (record.errorType !== undefined) attributes["error.type"] = record.errorType;
  if (record.keyId !== undefined) attributes["fleetgate.key_id"] = record.keyId;
  if (record.ttftMs !== undefined) attributes["fleetgate.ttft_ms"] = record.ttftMs;
  if (record.routeReason !== undefined) attributes["fleetgate.route.reason"] = record.routeReason;
  if (record.servedBy !== undefined) attributes["fleetgate.node.id"] = record.servedBy;
  return finished({
    name: record.model === undefined ? record.operation : `${record.operation} ${record.model}`,
    kind: SpanKind.SERVER,
    context: self,
    parent,
    resource,
    startMs,
    durationMs: record.durationMs,
    attributes,
    error: record.errorType,
  });
}

function attemptSpan(
  { resource, self }: Lineage,
  ids: RandomIdGenerator,
  callStartMs: number,
  attempt: AttemptSpanRecord,
): ReadableSpan {
  const attributes: Attributes = {
    "fleetgate.node.id": attempt.node.id,
    "server.address": attempt.node.address,
    "server.port": attempt.node.port,
    "fleetgate.attempt.result": attempt.result,
  };
  if (attempt.continuation) attributes["fleetgate.attempt.continuation"] = true;
  if (attempt.hedge) attributes["fleetgate.attempt.hedge"] = true;
  if (attempt.ttftMs !== undefined) attributes["fleetgate.ttft_ms"] = attempt.ttftMs;
  if (attempt.errorType !== undefined) attributes["error.type"] = attempt.errorType;
  return finished({
    name: `attempt ${attempt.node.id}`,
    kind: SpanKind.CLIENT,
    context: { ...self, spanId: ids.generateSpanId() },
    parent: self,
    resource,
    startMs: callStartMs + attempt.startOffsetMs,
    durationMs: attempt.durationMs,
    attributes,
    error: attempt.result === "failed" ? (attempt.errorType ?? "failed") : undefined,
  });
}

function finished(span: {
  name: string;
  kind: SpanKind;
  context: SpanContext;
  parent: SpanContext | undefined;
  resource: Resource;
  startMs: number;
  durationMs: number;
  attributes: Attributes;
  error: string | undefined;
}): ReadableSpan {
  const startTime: HrTime = millisToHrTime(span.startMs);
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.context,
    parentSpanContext: span.parent,
    startTime,
    endTime: millisToHrTime(span.startMs + span.durationMs),
    duration: millisToHrTime(span.durationMs),
    status:
      span.error === undefined
        ? { code: SpanStatusCode.UNSET }
        : { code: SpanStatusCode.ERROR, message: span.error },
    attributes: span.attributes,
    links: [],
    events: [],
    ended: true,
    resource: span.resource,
    instrumentationScope: { name: SCOPE },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
