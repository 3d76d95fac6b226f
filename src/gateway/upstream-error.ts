import { GatewayError, type OpenAIErrorType } from "../errors.js";

const KNOWN_TYPES = new Set<string>([
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "rate_limit_error",
  "server_error",
]);

/**
 * An error status a node answered before any content, re-expressed in the OpenAI envelope. The
 * node's message and status pass through; llama.cpp's numeric `code` becomes a stable string code
 * (its error type, e.g. `exceed_context_size_error`).
 */
export function upstreamErrorFrom(nodeId: string, status: number, body: Buffer): GatewayError {
  let message = `Node '${nodeId}' answered HTTP ${status}`;
  let upstreamType: string | undefined;
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { error?: { message?: unknown; type?: unknown } };
    if (typeof parsed.error?.message === "string") message = parsed.error.message;
    if (typeof parsed.error?.type === "string") upstreamType = parsed.error.type;
  } catch {
    const text = body.toString("utf8").trim();
    if (text) message = `${message}: ${text.slice(0, 500)}`;
  }
  return new GatewayError(message, {
    status,
    code: upstreamType ?? (status >= 500 ? "upstream_error" : "upstream_rejected"),
    type: classify(status, upstreamType),
  });
}

function classify(status: number, upstreamType: string | undefined): OpenAIErrorType {
  if (upstreamType && KNOWN_TYPES.has(upstreamType)) return upstreamType as OpenAIErrorType;
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "upstream_error";
  return "invalid_request_error";
}
