import { errors, type GatewayError } from "../errors.js";
import { parseNodeError } from "../openai/index.js";

/** How much of a body that is not an error envelope the client gets to see. */
const RAW_BODY_CHARS = 500;

/**
 * llama-server answers 500 `server_error` for some requests it cannot take, whichever node gets
 * them (tools/server/server-common.cpp): content the model cannot read without an mmproj, tools
 * without `--jinja`. Those are the request's doing and final.
 */
const CANNOT_DO =
  /\b(?:image|audio|video) input is not supported\b|does not support multimodal|requires --jinja flag/i;
/** ...and some requests that are simply invalid. */
const INVALID = /^(?:Unsupported param: |Cannot use both json_schema and grammar)/i;

/**
 * An error status a node answered before any content, as one of the catalogue's fixed codes. The
 * client status it maps to decides fault and failover (a 4xx is the client's final answer, a 5xx the
 * node's fault): a node's 5xx that any node would give for this request is the client's, and a
 * node's 401/403 says the gateway's node key is wrong, which is the node operator's. The node's
 * message and its extra fields (`n_prompt_tokens`, `n_ctx`...) reach the client; its type never
 * becomes a code.
 */
export function upstreamErrorFrom(
  nodeId: string,
  status: number,
  body: Buffer,
  retryAfter?: string,
): GatewayError {
  const wait = retryAfterSeconds(retryAfter);
  const text = body.toString("utf8");
  const parsed = parseNodeError(text);
  const raw = text.trim().slice(0, RAW_BODY_CHARS);
  const message = parsed?.message ?? `Node '${nodeId}' answered HTTP ${status}${raw ? `: ${raw}` : ""}`;
  const type = parsed?.type;
  const details = parsed?.details;
  if (status === 401 || status === 403) return errors.upstreamAuthFailed(nodeId, status, message);
  if (status === 501 || type === "not_supported_error" || (status >= 500 && CANNOT_DO.test(message))) {
    return errors.upstreamNotSupported(message, details);
  }
  if (status >= 500) {
    if (INVALID.test(message)) return errors.upstreamRejected(400, message, details);
    if (status === 503 || type === "unavailable_error")
      return errors.upstreamUnavailable(message, details, wait);
    return errors.upstreamError(message, details, wait);
  }
  if (type === "exceed_context_size_error") return errors.contextLengthExceeded(message, details);
  return errors.upstreamRejected(status, message, details, wait);
}

/** The node's `Retry-After` (seconds, or an HTTP date) in whole seconds; nonsense is dropped. */
function retryAfterSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
