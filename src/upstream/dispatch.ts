import type { Readable } from "node:stream";
import { errors as undiciErrors } from "undici";
import { errors, GatewayError } from "../errors.js";
import type { UpstreamPools } from "./pools.js";

/** Where a request goes: enough of a node record to reach it. */
export interface UpstreamTarget {
  readonly id: string;
  readonly url: string;
  readonly apiKey: string | undefined;
  readonly slotsTotal?: number | undefined;
}

export interface UpstreamRequest {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: string | Uint8Array | undefined;
  readonly requestId?: string | undefined;
  /** W3C trace context, passed on as it is. */
  readonly traceparent?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable;
}

/** A failure attributed to the node: counts against its health and allows failover. */
export class NodeFault extends GatewayError {
  readonly nodeId: string;
  constructor(nodeId: string, cause: GatewayError) {
    super(cause.message, {
      status: cause.status,
      code: cause.code,
      type: cause.type,
      cause: cause.cause,
      ...(cause.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: cause.retryAfterSeconds }),
    });
    this.nodeId = nodeId;
  }
}

/** Parsed once per node URL: parsing a URL per request costs more than the routing decision. */
const origins = new Map<string, { origin: string; basePath: string }>();

function originOf(url: string): { origin: string; basePath: string } {
  let parsed = origins.get(url);
  if (!parsed) {
    const parts = new URL(url);
    parsed = { origin: parts.origin, basePath: parts.pathname.replace(/\/+$/, "") };
    origins.set(url, parsed);
  }
  return parsed;
}

/** Method, path and headers of a request to a node, ready for undici. */
function upstreamOptions(target: UpstreamTarget, request: UpstreamRequest) {
  const { origin, basePath } = originOf(target.url);
  const headers: Record<string, string> = { accept: "application/json, text/event-stream" };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  if (request.requestId) headers["x-request-id"] = request.requestId;
  if (request.traceparent) headers.traceparent = request.traceparent;
  return {
    origin,
    options: { method: request.method, path: basePath + request.path, headers, body: request.body ?? null },
  };
}

/** Sends one request to a node. Resolves once response headers arrive; the body streams after. */
export async function sendToNode(
  pools: UpstreamPools,
  target: UpstreamTarget,
  request: UpstreamRequest,
): Promise<UpstreamResponse> {
  const { origin, options } = upstreamOptions(target, request);
  try {
    const response = await pools.for(origin, target.slotsTotal).request({
      ...options,
      signal: request.signal ?? null,
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  } catch (err) {
    throw classifyTransportError(target.id, err, request.signal);
  }
}

export interface WholeResponse {
  readonly status: number;
  readonly body: Buffer;
  /** The node's `Retry-After`, on an error answer. */
  readonly retryAfter?: string | undefined;
}

/** An error answer is a message, not content: more than this is not worth holding. */
export const ERROR_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Sends one request and collects the whole answer, at most `limitBytes` of it, holding its bytes
 * against the pools' shared buffer budget. Dispatching with a small handler skips the promise,
 * Readable and abort-listener layers of `request()`: this is the path every non-streamed call takes.
 */
export function fetchWhole(
  pools: UpstreamPools,
  target: UpstreamTarget,
  request: UpstreamRequest,
  limitBytes: number,
): Promise<WholeResponse> {
  const { origin, options } = upstreamOptions(target, request);
  const signal = request.signal;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let status = 0;
    let retryAfter: string | undefined;
    let limit = limitBytes;
    let abort: ((reason: Error) => void) | undefined;
    const tooLarge = (detail: string) =>
      new NodeFault(target.id, errors.upstreamMalformed(target.id, detail));
    const lease = pools.budget.open((detail) => abort?.(tooLarge(detail)));
    const onAbort = () => abort?.(signal?.reason);
    const settle = () => {
      lease.release();
      signal?.removeEventListener("abort", onAbort);
    };
    pools.for(origin, target.slotsTotal).dispatch(options, {
      onRequestStart(controller) {
        abort = (reason) => controller.abort(reason);
        if (signal?.aborted) onAbort();
        else signal?.addEventListener("abort", onAbort, { once: true });
      },
      onResponseStart(_controller, statusCode, headers) {
        status = statusCode;
        if (status >= 400) {
          limit = Math.min(limit, ERROR_BODY_LIMIT_BYTES);
          retryAfter = headerText(headers["retry-after"]);
        }
      },
      onResponseData(controller, chunk) {
        size += chunk.length;
        if (size > limit) controller.abort(tooLarge(`response body exceeds ${limit} bytes`));
        else if (!lease.grow(chunk.length))
          controller.abort(
            tooLarge(`response body of ${size} bytes does not fit the gateway's buffer budget`),
          );
        else chunks.push(chunk);
      },
      onResponseEnd() {
        settle();
        resolve({ status, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), retryAfter });
      },
      onResponseError(_controller, err) {
        settle();
        reject(err instanceof NodeFault ? err : classifyTransportError(target.id, err, signal));
      },
    });
  });
}

export function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Turns undici's errors into gateway errors; an abort by our own signal is passed on unchanged. */
export function classifyTransportError(nodeId: string, err: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason ?? err;
  if (err instanceof undiciErrors.ConnectTimeoutError) {
    return new NodeFault(nodeId, errors.upstreamUnreachable(nodeId, err));
  }
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new NodeFault(nodeId, errors.upstreamTimeout(nodeId, "response"));
  }
  const code = (err as { code?: string }).code;
  if (
    code === "ECONNREFUSED" ||
    code === "ENOTFOUND" ||
    code === "EHOSTUNREACH" ||
    code === "ECONNRESET" ||
    code === "FLEETGATE_BLOCKED_ADDRESS"
  ) {
    return new NodeFault(nodeId, errors.upstreamUnreachable(nodeId, err));
  }
  return new NodeFault(nodeId, errors.streamInterrupted(nodeId, (err as Error).message ?? String(err)));
}

/** Reads a whole (small) body, bounded so a misbehaving node cannot exhaust memory. */
export async function readBody(body: Readable, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      body.destroy();
      throw new Error(`response body exceeds ${limitBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
