/**
 * The one way errors reach clients. Every error carries a stable `code` that clients can branch on,
 * the HTTP status and the OpenAI error `type`, so the http layer renders them all the same way.
 */
export type OpenAIErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "server_error"
  | "service_unavailable_error"
  | "upstream_error"
  | "timeout_error";

/** Scalar fields beside message/type/code/param in the envelope, e.g. a node's `n_prompt_tokens`. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean>>;

export interface GatewayErrorOptions {
  status: number;
  code: string;
  type: OpenAIErrorType;
  param?: string | null;
  retryAfterSeconds?: number;
  details?: ErrorDetails;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: OpenAIErrorType;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;
  readonly details: ErrorDetails | undefined;

  constructor(message: string, options: GatewayErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "GatewayError";
    this.status = options.status;
    this.code = options.code;
    this.type = options.type;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
  }
}

/** The code of a call its client gave up on: nobody's failure. */
export const CLIENT_CLOSED_CODE = "client_closed_request";

/** Named constructors keep status, type and code consistent wherever an error is raised. */
export const errors = {
  invalidJson: (detail: string) =>
    new GatewayError(`Request body is not valid JSON: ${detail}`, {
      status: 400,
      code: "invalid_json",
      type: "invalid_request_error",
    }),
  invalidRequest: (message: string, param: string | null) =>
    new GatewayError(message, { status: 400, code: "invalid_request", type: "invalid_request_error", param }),
  bodyTooLarge: (limitBytes: number) =>
    new GatewayError(`Request body exceeds the limit of ${limitBytes} bytes`, {
      status: 413,
      code: "request_too_large",
      type: "invalid_request_error",
    }),
  unsupportedMediaType: (got: string | undefined) =>
    new GatewayError(`Content-Type must be application/json, got ${got ? `'${got}'` : "none"}`, {
      status: 415,
      code: "unsupported_media_type",
      type: "invalid_request_error",
    }),
  invalidApiKey: (why: "missing" | "unknown" | "revoked") =>
    new GatewayError(
      why === "missing"
        ? "No API key: send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'"
        : why === "revoked"
          ? "The API key has been revoked"
          : "The API key is not valid",
      { status: 401, code: "invalid_api_key", type: "authentication_error" },
    ),
  modelNotAllowed: (model: string) =>
    new GatewayError(`This API key may not use the model '${model}'`, {
      status: 403,
      code: "model_not_allowed",
      type: "permission_error",
      param: "model",
    }),
  regionNotAllowed: (regions: readonly string[]) =>
    new GatewayError(
      `This API key may not send requests to the region(s) ${regions.join(", ")}; its data-residency pin forbids it`,
      { status: 403, code: "region_not_allowed", type: "permission_error" },
    ),
  keyNotFound: (id: string) =>
    new GatewayError(`No API key with id '${id}'`, {
      status: 404,
      code: "key_not_found",
      type: "not_found_error",
    }),
  authNotEnforced: () =>
    new GatewayError(
      "The gateway runs open (no auth.keys and auth.required is false), so a key would not be checked: set auth.required: true",
      { status: 409, code: "auth_not_enforced", type: "invalid_request_error" },
    ),
  adminUnauthorized: (configured: boolean) =>
    new GatewayError(
      configured
        ? "The admin API needs the admin token: send it as 'Authorization: Bearer <token>'"
        : "The admin API is disabled: set FLEETGATE_ADMIN_TOKEN or admin.token to enable it",
      { status: 401, code: "admin_unauthorized", type: "authentication_error" },
    ),
  enrollmentUnauthorized: (configured: boolean) =>
    new GatewayError(
      configured
        ? "Registering a node needs an enrollment token: send it as 'Authorization: Bearer <token>'"
        : "Node registration is disabled: set fleet.enrollment_tokens to enable it",
      { status: 401, code: "invalid_enrollment_token", type: "authentication_error" },
    ),
  nodeIdTaken: (id: string) =>
    new GatewayError(
      `The node id '${id}' is held by another URL or another enrollment token, or is a configured node`,
      { status: 409, code: "node_id_taken", type: "invalid_request_error", param: "id" },
    ),
  nodeNotRegistered: (id: string) =>
    new GatewayError(
      `No node '${id}' is registered (it expired, or the gateway lost its registry): register again`,
      {
        status: 404,
        code: "node_not_registered",
        type: "not_found_error",
      },
    ),
  nodeUrlRefused: (reason: string) =>
    new GatewayError(`The node URL is refused: it ${reason}`, {
      status: 400,
      code: "node_url_refused",
      type: "invalid_request_error",
      param: "url",
    }),
  invalidPath: (detail: string) =>
    new GatewayError(`The request path is not acceptable: ${detail}`, {
      status: 400,
      code: "invalid_path",
      type: "invalid_request_error",
    }),
  methodNotAllowed: (method: string, path: string, allowed: readonly string[]) =>
    new GatewayError(`${method} is not allowed on ${path}; use ${allowed.join(" or ")}`, {
      status: 405,
      code: "method_not_allowed",
      type: "invalid_request_error",
    }),
  routeNotFound: (method: string, path: string) =>
    new GatewayError(`No route for ${method} ${path}`, {
      status: 404,
      code: "route_not_found",
      type: "not_found_error",
    }),
  modelNotFound: (model: string) =>
    new GatewayError(`No node of this gateway serves the model '${model}'`, {
      status: 404,
      code: "model_not_found",
      type: "not_found_error",
      param: "model",
    }),
  noHealthyNode: (retryAfterSeconds: number) =>
    new GatewayError("No healthy inference node is available", {
      status: 503,
      code: "no_healthy_node",
      type: "service_unavailable_error",
      retryAfterSeconds,
    }),
  noNodeInAllowedRegions: (regions: ReadonlySet<string>, retryAfterSeconds: number) =>
    new GatewayError(
      `No healthy node serving this model is in the allowed regions (${[...regions].join(", ") || "none"}); data residency forbids sending it elsewhere`,
      {
        status: 503,
        code: "no_node_in_allowed_regions",
        type: "service_unavailable_error",
        retryAfterSeconds,
      },
    ),
  allBreakersOpen: (nodes: number, retryAfterSeconds: number) =>
    new GatewayError(`All ${nodes} nodes that could serve this request are failing (circuit breakers open)`, {
      status: 503,
      code: "nodes_failing",
      type: "service_unavailable_error",
      retryAfterSeconds,
    }),
  upstreamUnreachable: (nodeId: string, cause: unknown) =>
    new GatewayError(`Node '${nodeId}' could not be reached`, {
      status: 502,
      code: "upstream_unreachable",
      type: "upstream_error",
      cause,
    }),
  nodeBreakerOpen: (nodeId: string, retryAfterSeconds: number) =>
    new GatewayError(`Node '${nodeId}' is failing and temporarily taken out of rotation`, {
      status: 503,
      code: "node_breaker_open",
      type: "service_unavailable_error",
      retryAfterSeconds,
    }),
  /** A key's or tenant's quota is used up; `limit` names it (`tokens_per_minute`, ...), as `param` too. */
  rateLimitExceeded: (message: string, limit: string, retryAfterSeconds: number | undefined) =>
    new GatewayError(message, {
      status: 429,
      code: "rate_limit_exceeded",
      type: "rate_limit_error",
      param: limit,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    }),
  /** The shared store failed and `quotas.on_store_error` is `closed`: nothing passes unchecked. */
  storeUnavailable: (what: "quotas" | "API keys") =>
    new GatewayError(`${what} cannot be checked right now (the shared store is unavailable)`, {
      status: 503,
      code: "store_unavailable",
      type: "service_unavailable_error",
      retryAfterSeconds: 1,
    }),
  /** 429 tells the client to back off now: the queue had no room for it at all. */
  overloaded: (retryAfterSeconds: number) =>
    new GatewayError("Every node serving this model is busy and the wait queue is full", {
      status: 429,
      code: "overloaded",
      type: "rate_limit_error",
      retryAfterSeconds,
    }),
  overloadedTimeout: (retryAfterSeconds: number) =>
    new GatewayError("Every node serving this model stayed busy for longer than the request may wait", {
      status: 503,
      code: "overloaded_timeout",
      type: "service_unavailable_error",
      retryAfterSeconds,
    }),
  // A node's error answer, mapped onto a fixed set of codes (gateway/upstream-error.ts picks one);
  // the node's message and extra fields are kept, its open-ended error type is not.
  contextLengthExceeded: (message: string, details?: ErrorDetails) =>
    new GatewayError(message, {
      status: 400,
      code: "context_length_exceeded",
      type: "invalid_request_error",
      details,
    }),
  /** Any other 4xx keeps the node's status: the request itself was refused, and no node would differ. */
  upstreamRejected: (status: number, message: string, details?: ErrorDetails, retryAfterSeconds?: number) =>
    new GatewayError(message, {
      status,
      code: "upstream_rejected",
      type: rejectionType(status),
      details,
      retryAfterSeconds,
    }),
  /** 400, not the node's 501: what this deployment cannot do is final, and SDKs must not retry it. */
  upstreamNotSupported: (message: string, details?: ErrorDetails) =>
    new GatewayError(message, {
      status: 400,
      code: "upstream_not_supported",
      type: "invalid_request_error",
      details,
    }),
  /** A node refused the gateway's own credentials: its operator's configuration, not the client's. */
  upstreamAuthFailed: (nodeId: string, status: number, message: string) =>
    new GatewayError(`Node '${nodeId}' refused the gateway's credentials (HTTP ${status}): ${message}`, {
      status: 502,
      code: "upstream_auth_failed",
      type: "upstream_error",
    }),
  upstreamUnavailable: (message: string, details?: ErrorDetails, retryAfterSeconds?: number) =>
    new GatewayError(message, {
      status: 503,
      code: "upstream_unavailable",
      type: "service_unavailable_error",
      details,
      retryAfterSeconds,
    }),
  /** 502, not the node's own 500: a 500 from the gateway would claim the gateway itself broke. */
  upstreamError: (message: string, details?: ErrorDetails, retryAfterSeconds?: number) =>
    new GatewayError(message, {
      status: 502,
      code: "upstream_error",
      type: "upstream_error",
      details,
      retryAfterSeconds,
    }),
  /** The node a broken stream was to be continued on refused the continuation (a 4xx). */
  continuationRejected: (message: string) =>
    new GatewayError(message, { status: 502, code: "continuation_rejected", type: "upstream_error" }),
  upstreamTimeout: (nodeId: string, phase: string) =>
    new GatewayError(`Node '${nodeId}' timed out (${phase})`, {
      status: 504,
      code: "upstream_timeout",
      type: "timeout_error",
    }),
  upstreamMalformed: (nodeId: string, detail: string) =>
    new GatewayError(`Node '${nodeId}' sent a malformed response: ${detail}`, {
      status: 502,
      code: "upstream_malformed_response",
      type: "upstream_error",
    }),
  streamInterrupted: (nodeId: string, detail: string) =>
    new GatewayError(`The stream from node '${nodeId}' broke off before completion: ${detail}`, {
      status: 502,
      code: "stream_interrupted",
      type: "upstream_error",
    }),
  deadlineExceeded: (timeoutMs: number) =>
    new GatewayError(`The request did not complete within ${timeoutMs} ms`, {
      status: 504,
      code: "request_timeout",
      type: "timeout_error",
    }),
  clientClosed: () =>
    new GatewayError("The client closed the connection", {
      status: 499,
      code: CLIENT_CLOSED_CODE,
      type: "invalid_request_error",
    }),
  shuttingDown: () =>
    new GatewayError("The gateway is shutting down", {
      status: 503,
      code: "shutting_down",
      type: "service_unavailable_error",
      retryAfterSeconds: 1,
    }),
  internal: (cause: unknown) =>
    new GatewayError("Internal gateway error", {
      status: 500,
      code: "internal_error",
      type: "server_error",
      cause,
    }),
} as const;

function rejectionType(status: number): OpenAIErrorType {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  return "invalid_request_error";
}

export function toGatewayError(err: unknown): GatewayError {
  return err instanceof GatewayError ? err : errors.internal(err);
}

/** Dotted path of a schema issue, with array indices in brackets: `messages[0].role`. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`))
    .join("");
}
