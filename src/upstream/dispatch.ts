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

export function originOf(url: string): { origin: string; basePath: string } {
  const parsed = new URL(url);
  return { origin: parsed.origin, basePath: parsed.pathname.replace(/\/+$/, "") };
}

/** Sends one request to a node. Resolves once response headers arrive; the body streams after. */
export async function sendToNode(
  pools: UpstreamPools,
  target: UpstreamTarget,
  request: UpstreamRequest,
): Promise<UpstreamResponse> {
  const { origin, basePath } = originOf(target.url);
  const headers: Record<string, string> = { accept: "application/json, text/event-stream" };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  if (request.requestId) headers["x-request-id"] = request.requestId;
  try {
    const response = await pools.for(origin, target.slotsTotal).request({
      method: request.method,
      path: basePath + request.path,
      headers,
      body: request.body ?? null,
      signal: request.signal ?? null,
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  } catch (err) {
    throw classifyTransportError(target.id, err, request.signal);
  }
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
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "ECONNRESET") {
    return new NodeFault(nodeId, errors.upstreamUnreachable(nodeId, err));
  }
  return new NodeFault(nodeId, errors.streamInterrupted(nodeId, (err as Error).message ?? String(err)));
}

/**
 * Reads a whole body, bounded so a misbehaving node cannot exhaust memory. With `nodeId`, a body
 * over the limit is that node's fault.
 */
export async function readBody(body: Readable, limitBytes: number, nodeId?: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      body.destroy();
      const detail = `response body exceeds ${limitBytes} bytes`;
      throw nodeId === undefined
        ? new Error(detail)
        : new NodeFault(nodeId, errors.upstreamMalformed(nodeId, detail));
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
