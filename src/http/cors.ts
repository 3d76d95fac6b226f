import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * CORS for the API listener, applied before either http path runs, so the Node fast path and the
 * Hono app answer browsers alike. The API authenticates with bearer keys, never cookies, so no
 * credentials are ever allowed: `*` lets any page use a key it already holds, which is what
 * browser chat UIs need, and an allowlist narrows that to known sites.
 */
export interface CorsPolicy {
  /** Answers a preflight itself (true), or adds the response headers and leaves the request to routing. */
  apply(req: IncomingMessage, res: ServerResponse): boolean;
}

const METHODS = "GET, POST, OPTIONS";
/** Headers the openai SDKs and this gateway's own clients send; `x-stainless-*` is the SDKs' telemetry. */
const ALLOWED_HEADERS = new Set([
  "authorization",
  "content-type",
  "x-api-key",
  "x-request-id",
  "traceparent",
  "tracestate",
  "openai-organization",
  "openai-project",
  "openai-beta",
]);
// `anthropic-version`, `anthropic-beta`...: what Anthropic's SDK sends to /v1/messages.
const ALLOWED_PREFIXES = ["x-stainless-", "x-fleetgate-", "anthropic-"];
/** Browsers hide every response header not listed, and the list takes no patterns. */
const EXPOSED = [
  "x-request-id",
  "traceparent",
  "retry-after",
  "x-fleetgate-node",
  "x-fleetgate-route",
  ...["limit", "remaining", "reset"].flatMap((what) =>
    ["requests", "tokens"].map((of) => `x-ratelimit-${what}-${of}`),
  ),
].join(", ");
/** Browsers may reuse a preflight this long (Chromium caps it at two hours). */
const MAX_AGE_S = "7200";

function allowedHeader(name: string): boolean {
  return ALLOWED_HEADERS.has(name) || ALLOWED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** `undefined` when no origin is configured: then no CORS header is ever sent and browsers refuse cross-origin use. */
export function corsPolicy(origins: readonly string[]): CorsPolicy | undefined {
  if (origins.length === 0) return undefined;
  const any = origins.includes("*");
  const listed = new Set(origins);
  const allowOrigin = (origin: string | undefined): string | undefined => {
    if (origin === undefined) return undefined;
    if (any) return "*";
    return listed.has(origin) ? origin : undefined;
  };
  return {
    apply(req, res) {
      const origin = allowOrigin(req.headers.origin);
      // With a list, the answer depends on Origin: caches must not hand one site's answer to another.
      if (!any) res.setHeader("vary", "Origin");
      const preflight =
        req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
      if (preflight) {
        const headers: Record<string, string> = { "content-length": "0" };
        if (origin !== undefined) {
          headers["access-control-allow-origin"] = origin;
          headers["access-control-allow-methods"] = METHODS;
          headers["access-control-allow-headers"] = requestedHeaders(req);
          headers["access-control-max-age"] = MAX_AGE_S;
        }
        res.writeHead(204, headers);
        res.end();
        return true;
      }
      if (origin !== undefined) {
        res.setHeader("access-control-allow-origin", origin);
        res.setHeader("access-control-expose-headers", EXPOSED);
      }
      return false;
    },
  };
}

/** The requested headers this gateway accepts; the browser refuses the call if any it needs is missing. */
function requestedHeaders(req: IncomingMessage): string {
  const asked = req.headers["access-control-request-headers"];
  if (typeof asked !== "string") return "";
  return asked
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "" && allowedHeader(name))
    .join(", ");
}
