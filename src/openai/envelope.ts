import type { GatewayError } from "../errors.js";

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

export function errorEnvelope(err: GatewayError): OpenAIErrorBody {
  return { error: { message: err.message, type: err.type, code: err.code, param: err.param } };
}

/** The SSE event that ends a stream which can no longer carry an HTTP status. */
export function errorEvent(err: GatewayError): string {
  return `data: ${JSON.stringify(errorEnvelope(err))}\n\n`;
}
