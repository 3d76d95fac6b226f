import { errors, GatewayError } from "../errors.js";
import type { NodeEntry } from "../fleet/index.js";
import type { StreamEnd } from "../openai/index.js";
import type { RequestFeatures } from "../routing/index.js";
import {
  classifyTransportError,
  ERROR_BODY_LIMIT_BYTES,
  fetchWhole,
  headerText,
  NodeFault,
  readBody,
  sendToNode,
  type UpstreamPools,
  type UpstreamResponse,
  type WholeResponse,
} from "../upstream/index.js";
import type { Attempt } from "./attempt.js";
import type { AttemptResult } from "./failover.js";
import { upstreamErrorFrom } from "./upstream-error.js";

/** Everything about the client's call that every attempt on a node shares. */
export interface CallContext {
  readonly pools: UpstreamPools;
  readonly path: string;
  /** How the endpoint's streams end (`[DONE]`, a final event...). */
  readonly streamEnd: StreamEnd;
  readonly rawBody: Uint8Array;
  readonly requestId: string;
  /** The W3C trace context nodes get, when the call has one. */
  readonly traceparent: string | undefined;
  /** Aborts when the client leaves, the deadline passes or the reply is cancelled. */
  readonly signal: AbortSignal;
  readonly clientGone: () => boolean;
  readonly responseLimitBytes: number;
  /** What was asked (prompt and answer length), which time limits grow with. */
  readonly features: RequestFeatures | undefined;
}

/**
 * Sends the call to one node and sorts what comes back before any of it reaches the client:
 * a response to use, a node failure worth retrying elsewhere, or a final error.
 */
export async function callNode(
  attempt: Attempt,
  context: CallContext,
): Promise<AttemptResult<UpstreamResponse>> {
  let response: UpstreamResponse;
  try {
    response = await sendToNode(context.pools, targetOf(attempt.entry), requestFor(attempt, context));
  } catch (err) {
    return transportFailure(attempt, err, context);
  }
  if (response.status < 400) return { kind: "done", value: response };
  const body = await readBody(response.body, ERROR_BODY_LIMIT_BYTES).catch(() => Buffer.alloc(0));
  return errorStatus(attempt, response.status, body, headerText(response.headers["retry-after"]));
}

/** The same for a call answered in one piece: the whole body, read within the response limit. */
export async function callNodeWhole(attempt: Attempt, context: CallContext): Promise<AttemptResult<Buffer>> {
  let response: WholeResponse;
  try {
    response = await fetchWhole(
      context.pools,
      targetOf(attempt.entry),
      requestFor(attempt, context),
      context.responseLimitBytes,
    );
  } catch (err) {
    return transportFailure(attempt, err, context);
  }
  if (response.status < 400) return { kind: "done", value: response.body };
  return errorStatus(attempt, response.status, response.body, response.retryAfter);
}

function requestFor(attempt: Attempt, context: CallContext) {
  return {
    method: "POST" as const,
    path: context.path,
    body: context.rawBody,
    requestId: context.requestId,
    traceparent: context.traceparent,
    signal: attempt.signal,
  };
}

/**
 * A node's error answer, judged by what it maps to rather than by the node's own status: a 5xx for
 * the client is the node's fault and may be retried elsewhere; a 4xx is the client's final answer
 * and costs the node nothing (upstream-error.ts decides which, e.g. llama-server's 500 for an image
 * it cannot read is the client's, its 401 for the gateway's key the node operator's).
 */
export function errorStatus<T>(
  attempt: Attempt,
  status: number,
  body: Buffer,
  retryAfter?: string,
): AttemptResult<T> {
  const error = upstreamErrorFrom(attempt.entry.id, status, body, retryAfter);
  if (error.status >= 500) {
    attempt.failByNode(error);
    return { kind: "retry", error };
  }
  attempt.endWithoutFault();
  return { kind: "final", error };
}

/** Failures while talking to a node: the node's fault unless our own signal stopped the request. */
export function transportFailure<T>(attempt: Attempt, err: unknown, context: CallContext): AttemptResult<T> {
  const fault =
    err instanceof NodeFault ? err : classifyTransportError(attempt.entry.id, err, attempt.signal);
  if (fault instanceof NodeFault) {
    attempt.failByNode(fault);
    return { kind: "retry", error: fault };
  }
  attempt.endWithoutFault();
  return { kind: "final", error: stopReason(context, attempt.entry.id) ?? errors.internal(err) };
}

/**
 * Why the gateway itself stopped a call, if it did: the client left, the deadline passed, or the
 * gateway is shutting down. None of these is the node's fault.
 */
export function stopReason(context: CallContext, nodeId: string): GatewayError | undefined {
  if (context.clientGone()) return errors.clientClosed();
  if (!context.signal.aborted) return undefined;
  const reason: unknown = context.signal.reason;
  return reason instanceof GatewayError ? reason : errors.upstreamTimeout(nodeId, "request deadline");
}

export function targetOf(entry: NodeEntry) {
  return { id: entry.id, url: entry.record.url, apiKey: entry.record.apiKey, slotsTotal: entry.slotsTotal };
}
