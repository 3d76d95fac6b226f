import { z } from "zod";
import type { ErrorDetails, GatewayError } from "../errors.js";

export interface OpenAIErrorBody {
  error: {
    message: string;
    type: string;
    code: string;
    param: string | null;
    [detail: string]: string | number | boolean | null;
  };
}

export function errorEnvelope(err: GatewayError): OpenAIErrorBody {
  const error: OpenAIErrorBody["error"] = {
    message: err.message,
    type: err.type,
    code: err.code,
    param: err.param,
  };
  // `in` also sees the prototype, so a detail can neither replace a field nor shadow `toString`.
  for (const [field, value] of Object.entries(err.details ?? {})) if (!(field in error)) error[field] = value;
  return { error };
}

/** The SSE event that ends a stream which can no longer carry an HTTP status. */
export function errorEvent(err: GatewayError): string {
  return `data: ${JSON.stringify(errorEnvelope(err))}\n\n`;
}

/** A node's error answer as llama-server words it: `{"error":{"code":400,"message","type",...}}`. */
export interface NodeError {
  readonly message: string;
  readonly type: string | undefined;
  /** The envelope's other scalar fields (`n_prompt_tokens`, `n_ctx`...), bounded in number and size. */
  readonly details: ErrorDetails | undefined;
}

const nodeErrorSchema = z.object({
  error: z.looseObject({ message: z.string(), type: z.string().optional() }),
});

/** The node's own fields; the gateway sets these itself. */
const ENVELOPE_FIELDS = new Set(["code", "message", "type", "param"]);
const DETAIL_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const MAX_DETAILS = 16;
const MAX_DETAIL_CHARS = 500;

/** Undefined when the body is not such an envelope (not JSON, another server's shape). */
export function parseNodeError(text: string): NodeError | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = nodeErrorSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { message, type, ...rest } = parsed.data.error;
  return { message, type, details: scalarDetails(rest) };
}

/** A node is run by someone else: only a few short, plainly named scalars reach the client. */
function scalarDetails(fields: Record<string, unknown>): ErrorDetails | undefined {
  const details: Record<string, string | number | boolean> = {};
  let count = 0;
  for (const [name, value] of Object.entries(fields)) {
    if (count === MAX_DETAILS) break;
    if (ENVELOPE_FIELDS.has(name) || !DETAIL_NAME.test(name)) continue;
    if (typeof value === "string") details[name] = value.slice(0, MAX_DETAIL_CHARS);
    else if (typeof value === "number" || typeof value === "boolean") details[name] = value;
    else continue;
    count += 1;
  }
  return count === 0 ? undefined : details;
}
