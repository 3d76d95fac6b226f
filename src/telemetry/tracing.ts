import {
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { parseTraceParent } from "@opentelemetry/core";
import { PROVIDER_NAME } from "./instruments.js";
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
  /** Ends the call's span with what the call came to; nothing to do when not tracing. */
  end(record: CallSpanRecord): void;
}

export interface CallTracer {
  begin(clientTraceparent: string | undefined): CallTrace;
}

const UNTRACED: CallTrace = { traceparent: undefined, end() {} };

/** Without an OTLP endpoint nothing is recorded; a valid client traceparent still passes through. */
export const passThroughTracer: CallTracer = {
  begin(clientTraceparent) {
    if (clientTraceparent === undefined || !parseTraceParent(clientTraceparent)) return UNTRACED;
    return { traceparent: clientTraceparent, end() {} };
  },
};

/**
 * A span per call, started when the call arrives (its id has to go out with the first upstream
 * request and the response headers), and ended at settle. The attempts' child spans are made then,
 * from the times the outcome reports, so nothing on the request path waits on tracing.
 */
export function otelCallTracer(tracer: Tracer): CallTracer {
  return {
    begin(clientTraceparent) {
      const parent = clientTraceparent === undefined ? null : parseTraceParent(clientTraceparent);
      const context = parent
        ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true })
        : ROOT_CONTEXT;
      const startMs = performance.timeOrigin + performance.now();
      const span = tracer.startSpan("call", { kind: SpanKind.SERVER, startTime: startMs }, context);
      return {
        traceparent: traceparentOf(span.spanContext()),
        end: (record) => endCallSpan(tracer, span, startMs, record),
      };
    },
  };
}

function endCallSpan(tracer: Tracer, span: Span, startMs: number, record: CallSpanRecord): void {
  if (!span.isRecording()) return;
  span.updateName(record.model === undefined ? record.operation : `${record.operation} ${record.model}`);
  span.setAttributes(callAttributes(record));
  if (record.errorType !== undefined)
    span.setStatus({ code: SpanStatusCode.ERROR, message: record.errorType });
  const parent = trace.setSpan(ROOT_CONTEXT, span);
  for (const attempt of record.attempts) {
    const begun = startMs + attempt.startOffsetMs;
    const child = tracer.startSpan(
      `attempt ${attempt.node.id}`,
      { kind: SpanKind.CLIENT, startTime: begun, attributes: attemptAttributes(attempt) },
      parent,
    );
    if (attempt.result === "failed") {
      child.setStatus({ code: SpanStatusCode.ERROR, message: attempt.errorType ?? "failed" });
    }
    child.end(begun + attempt.durationMs);
  }
  span.end(startMs + record.durationMs);
}

function callAttributes(record: CallSpanRecord): Attributes {
  return defined({
    "gen_ai.operation.name": record.operation,
    "gen_ai.provider.name": PROVIDER_NAME,
    "gen_ai.request.model": record.model,
    "gen_ai.usage.input_tokens": record.inputTokens,
    "gen_ai.usage.output_tokens": record.outputTokens,
    "http.response.status_code": record.status,
    "error.type": record.errorType,
    "fleetgate.request_id": record.requestId,
    "fleetgate.tenant": record.tenant,
    "fleetgate.key_id": record.keyId,
    "fleetgate.stream": record.stream,
    "fleetgate.ttft_ms": record.ttftMs,
    "fleetgate.route.reason": record.routeReason,
    "fleetgate.node.id": record.servedBy,
  });
}

function attemptAttributes(attempt: AttemptSpanRecord): Attributes {
  return defined({
    "fleetgate.node.id": attempt.node.id,
    "server.address": attempt.node.address,
    "server.port": attempt.node.port,
    "fleetgate.attempt.result": attempt.result,
    "fleetgate.attempt.continuation": attempt.continuation,
    "fleetgate.attempt.hedge": attempt.hedge,
    "fleetgate.ttft_ms": attempt.ttftMs,
    "error.type": attempt.errorType,
  });
}

function defined(attributes: Record<string, string | number | boolean | undefined>): Attributes {
  const kept: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) kept[key] = value;
  return kept;
}

function traceparentOf(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}
