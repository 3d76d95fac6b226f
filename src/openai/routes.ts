import type { z } from "zod";
import type { GatewayError } from "../errors.js";
import {
  applyTemplateRequestSchema,
  detokenizeRequestSchema,
  infillRequestSchema,
  messagesRequestSchema,
  rerankRequestSchema,
  responsesRequestSchema,
  tokenizeRequestSchema,
} from "./api-schemas.js";
import { errorEnvelope, errorEvent } from "./envelope.js";
import { chatCompletionRequestSchema, completionRequestSchema, embeddingRequestSchema } from "./schemas.js";
import { encodeData } from "./sse.js";

/**
 * How a node's stream says it is complete: OpenAI's chat and completions end with `data: [DONE]`;
 * the Responses API with a `response.completed` (or `.failed`, `.incomplete`) event, Anthropic's
 * Messages with `message_stop`, and llama.cpp's own /infill with a chunk whose `stop` is true.
 */
export type StreamEnd = "done" | "response_event" | "message_stop" | "stop_field";

interface Endpoint {
  readonly schema: z.ZodType;
  /** Whether `stream: true` asks this endpoint for SSE. */
  readonly streams: boolean;
  readonly end: StreamEnd;
}

/** Every inference endpoint the gateway proxies, with the schema of its body. */
export const endpoints = {
  chat: { schema: chatCompletionRequestSchema, streams: true, end: "done" },
  completions: { schema: completionRequestSchema, streams: true, end: "done" },
  embeddings: { schema: embeddingRequestSchema, streams: false, end: "done" },
  responses: { schema: responsesRequestSchema, streams: true, end: "response_event" },
  messages: { schema: messagesRequestSchema, streams: true, end: "message_stop" },
  rerank: { schema: rerankRequestSchema, streams: false, end: "done" },
  infill: { schema: infillRequestSchema, streams: true, end: "stop_field" },
  tokenize: { schema: tokenizeRequestSchema, streams: false, end: "done" },
  detokenize: { schema: detokenizeRequestSchema, streams: false, end: "done" },
  apply_template: { schema: applyTemplateRequestSchema, streams: false, end: "done" },
} as const satisfies Record<string, Endpoint>;
export type EndpointKind = keyof typeof endpoints;

/** A client path the gateway proxies: which endpoint it is and the path the node is asked on. */
export interface ApiRoute {
  readonly kind: EndpointKind;
  readonly nodePath: string;
}

/**
 * The client paths, each llama-server's own spelling and the other one (with or without `/v1`),
 * sent to the node on a path llama-server serves. The legacy `/completion(s)` and `/embedding(s)`
 * answer in llama.cpp's own shapes, not OpenAI's, and are not proxied.
 */
const PATHS: ReadonlyArray<readonly [EndpointKind, string, readonly string[]]> = [
  ["chat", "/v1/chat/completions", ["/v1/chat/completions", "/chat/completions"]],
  ["completions", "/v1/completions", ["/v1/completions"]],
  ["embeddings", "/v1/embeddings", ["/v1/embeddings"]],
  ["responses", "/v1/responses", ["/v1/responses", "/responses"]],
  ["messages", "/v1/messages", ["/v1/messages", "/messages"]],
  ["rerank", "/v1/rerank", ["/v1/rerank", "/rerank", "/v1/reranking", "/reranking"]],
  ["infill", "/infill", ["/infill", "/v1/infill"]],
  ["tokenize", "/tokenize", ["/tokenize", "/v1/tokenize"]],
  ["detokenize", "/detokenize", ["/detokenize", "/v1/detokenize"]],
  ["apply_template", "/apply-template", ["/apply-template", "/v1/apply-template"]],
];

const ROUTES = new Map<string, ApiRoute>(
  PATHS.flatMap(([kind, nodePath, paths]) => paths.map((path) => [path, { kind, nodePath }] as const)),
);

/** The proxied endpoint at this path (no query), if it is one. */
export function apiRoute(path: string): ApiRoute | undefined {
  return ROUTES.get(path);
}

/** Every proxied client path (they all take POST only). */
export const API_PATHS: readonly string[] = [...ROUTES.keys()];

/**
 * The event that ends a stream the gateway cannot complete, in the endpoint's own dialect: an
 * Anthropic client reads `event: error`, OpenAI's SDKs a data event carrying `error`.
 */
export function streamErrorEvent(kind: string, error: GatewayError): string {
  if (kind !== "messages") return errorEvent(error);
  const { error: body } = errorEnvelope(error);
  return `event: error\n${encodeData(JSON.stringify({ type: "error", error: body }))}`;
}
