import { errors, type GatewayError } from "../errors.js";
import { parseNodeError } from "../openai/index.js";

/** How much of a body that is not an error envelope the client gets to see. */
const RAW_BODY_CHARS = 500;

/**
 * An error status a node answered before any content, as one of the catalogue's fixed codes. The
 * status family decides first, as it decides fault and failover (a 4xx is the client's final
 * answer, a 5xx the node's fault); llama-server's error type only refines it. The node's message
 * and its extra fields (`n_prompt_tokens`, `n_ctx`...) reach the client; its type never becomes a code.
 */
export function upstreamErrorFrom(nodeId: string, status: number, body: Buffer): GatewayError {
  const text = body.toString("utf8");
  const parsed = parseNodeError(text);
  const raw = text.trim().slice(0, RAW_BODY_CHARS);
  const message = parsed?.message ?? `Node '${nodeId}' answered HTTP ${status}${raw ? `: ${raw}` : ""}`;
  const type = parsed?.type;
  const details = parsed?.details;
  if (status >= 500) {
    if (status === 501 || type === "not_supported_error")
      return errors.upstreamNotSupported(message, details);
    if (status === 503 || type === "unavailable_error") return errors.upstreamUnavailable(message, details);
    return errors.upstreamError(message, details);
  }
  if (type === "exceed_context_size_error") return errors.contextLengthExceeded(message, details);
  return errors.upstreamRejected(status, message, details);
}
