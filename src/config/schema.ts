import { z } from "zod";
import { authSchema } from "./auth.js";
import { cacheSchema } from "./cache.js";
import { latitude, longitude, regionCode } from "./fields.js";
import { fleetSchema } from "./fleet.js";
import { modelsSchema } from "./models.js";
import { quotasSchema } from "./quotas.js";

/** A place given either as a region code or as coordinates (both is allowed: coordinates win). */
const locationFields = {
  region: regionCode.optional(),
  lat: latitude.optional(),
  lon: longitude.optional(),
};

function bothOrNeither(value: { lat?: number | undefined; lon?: number | undefined }, ctx: z.RefinementCtx) {
  if ((value.lat === undefined) !== (value.lon === undefined)) {
    ctx.addIssue({ code: "custom", message: "lat and lon must be given together", path: ["lat"] });
  }
}

const nodeSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9_.-]+$/, "must contain only letters, digits, '_', '.' and '-'"),
    url: z
      .url({ protocol: /^https?$/ })
      // Credentials in the URL are never sent (requests go to its origin), yet they would be shown.
      .refine((url) => {
        const parsed = URL.parse(url);
        return !parsed || (parsed.username === "" && parsed.password === "");
      }, "must not contain a user name or password: put the node's credentials in api_key instead")
      .transform((url) => url.replace(/\/+$/, "")),
    ...locationFields,
    /** Sent upstream as Bearer; empty (e.g. `${KEY:-}` with KEY unset) means none. */
    api_key: z
      .string()
      .optional()
      .transform((key) => key || undefined),
    models: z.array(z.string().min(1)).min(1).optional(),
    /** Concurrent requests the node can run; read from /props when omitted. */
    slots: z.number().int().min(1).max(4096).optional(),
  })
  .superRefine(bothOrNeither);

/** An origin is scheme, host and port only: a path or trailing slash would never equal a browser's Origin. */
const corsOrigin = z.union([
  z.literal("*"),
  z.string().regex(/^https?:\/\/[^/?#\s]+$/, "an origin such as https://chat.example (no path)"),
]);

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default("0.0.0.0"),
    port: z.number().int().min(0).max(65535).default(8080),
    body_limit_bytes: z
      .number()
      .int()
      .min(1024)
      .default(8 * 1024 * 1024),
    /** While waiting for the first token, an SSE comment goes out this often (edge proxies drop silent sockets). */
    keepalive_interval_ms: z.number().int().min(50).default(5000),
    /**
     * A stream's status is committed (200 and the first keep-alive comment) only once the first
     * token has been awaited this long: a node failing sooner gets its real HTTP status.
     */
    keepalive_after_ms: z.number().int().min(0).default(15_000),
    /** How long the whole answer may take before the gateway gives up on it. */
    request_timeout_ms: z.number().int().min(100).default(600_000),
    /** A client's request line and headers must have arrived within this (slowloris). */
    headers_timeout_ms: z.number().int().min(10).default(10_000),
    /** The whole request, headers and body, must have arrived within this; the answer is not bounded by it. */
    body_timeout_ms: z.number().int().min(10).default(60_000),
    /** A keep-alive connection with no request in progress is closed after this. */
    idle_timeout_ms: z.number().int().min(10).default(5000),
    /** Client connections open at once; more are closed as soon as they are accepted. */
    max_connections: z.number().int().min(1).default(4096),
    /**
     * Origins whose pages may call the API from a browser: exact origins (`https://chat.example`)
     * or `*`. None by default, so exposing the API to browsers is a decision; credentials are never
     * allowed (keys travel in headers, not cookies).
     */
    cors: z.strictObject({ origins: z.array(corsOrigin).default([]) }).default({ origins: [] }),
  })
  .superRefine((server, ctx) => {
    // The body deadline counts from the request's first byte, headers included.
    if (server.headers_timeout_ms > server.body_timeout_ms) {
      ctx.addIssue({
        code: "custom",
        message: "must not exceed body_timeout_ms",
        path: ["headers_timeout_ms"],
      });
    }
  });

const healthSchema = z.strictObject({
  interval_ms: z.number().int().min(50).default(2000),
  timeout_ms: z.number().int().min(10).default(1500),
  /** Consecutive failed probes before a healthy node is taken out of rotation. */
  unhealthy_threshold: z.number().int().min(1).default(3),
  /** Consecutive good probes before a down node is put back. */
  healthy_threshold: z.number().int().min(1).default(2),
});

const upstreamSchema = z.strictObject({
  /** Upper bound on sockets per node; the pool never caps streams below the node's slots. */
  max_connections_per_node: z.number().int().min(1).default(256),
  connect_timeout_ms: z.number().int().min(10).default(5000),
  keepalive_timeout_ms: z.number().int().min(100).default(30_000),
});

const residencyRuleSchema = z.strictObject({
  /** Clients that declare one of these regions (x-fleetgate-client-region)... */
  client_regions: z.array(regionCode).min(1),
  /** ...may only be served by nodes in these regions. */
  node_regions: z.array(regionCode).min(1),
});

const latencyTuningSchema = z.strictObject({
  /** Share of decisions that try a cold or recovering node first, so it gets measured. */
  exploration_rate: z.number().min(0).max(1).default(0.02),
  /** Hotspot guard: the affinity node loses its credit with a slot round queued and load over (1+ε)× the mean. */
  affinity_load_epsilon: z.number().min(0).max(10).default(0.25),
  /** Nodes predicted within this many ms of the best are near-equals (power of two choices). */
  near_equal_ms: z.number().min(0).default(10),
});

const routingSchema = z.strictObject({
  strategy: z.enum(["latency", "round-robin", "random", "least-loaded"]).default("latency"),
  latency: latencyTuningSchema.default(latencyTuningSchema.parse({})),
  /** Remember which node served a conversation, so its next turn finds the prefix in that node's cache. */
  affinity: z.boolean().default(true),
  affinity_ttl_ms: z.number().int().min(1000).default(600_000),
  /** Measure network distance from the client's location (when it is known) instead of this gateway's. */
  client_relative: z.boolean().default(false),
  /** Data residency for every request: only nodes in these regions may serve. */
  allowed_regions: z.array(regionCode).min(1).optional(),
  residency: z.array(residencyRuleSchema).default([]),
  /** Believe cf-iplatitude/cf-iplongitude: only behind Cloudflare, whose edge sets them (anyone can send them). */
  trust_cloudflare_headers: z.boolean().default(false),
});

const breakerSchema = z.strictObject({
  /** Failure share over the window that opens a node's breaker. */
  error_threshold_percentage: z.number().min(1).max(100).default(50),
  /** Requests the window must hold before the share counts. */
  volume_threshold: z.number().int().min(1).default(5),
  window_ms: z.number().int().min(100).default(10_000),
  /** How long an open breaker waits before letting one trial request through. */
  reset_timeout_ms: z.number().int().min(50).default(5000),
});

const resilienceSchema = z.strictObject({
  /** Nodes one request may try before its failure is reported. */
  max_attempts: z.number().int().min(1).max(10).default(3),
  /** A stream whose first token has not come in this long is abandoned and tried elsewhere. */
  ttft_timeout_ms: z.number().int().min(10).default(30_000),
  /**
   * A non-streamed answer arrives in one piece (llama-server sends its headers only when it is done):
   * a node that has not answered in this long is given up on and the request tried elsewhere.
   */
  response_timeout_ms: z.number().int().min(10).default(120_000),
  /** Silence between two events of a stream longer than this is the node's fault. */
  idle_timeout_ms: z.number().int().min(10).default(30_000),
  /** A node response larger than this, counted from its first byte, is cut off as the node's fault. */
  max_response_bytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024),
  /** One SSE event larger than this (a node that never ends its event) is cut off as the node's fault. */
  max_event_bytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /**
   * Bytes all non-streamed answers being read may hold at once; when one would overflow it, the
   * largest are failed as their nodes' fault.
   */
  buffered_bytes_budget: z
    .number()
    .int()
    .min(64 * 1024)
    .default(256 * 1024 * 1024),
  /** Retries may add at most this share of the request rate (plus a floor), so outages do not become storms. */
  retry_budget_ratio: z.number().min(0).max(10).default(0.2),
  retry_budget_min_per_second: z.number().min(0).default(10),
  breaker: breakerSchema.default(breakerSchema.parse({})),
  /**
   * Streams only: when the first node is slower to its first token than its own p95, ask the next node
   * too; the first token wins and the other request is cancelled. Spends from the retry budget.
   */
  hedging: z.boolean().default(false),
  /** Continue a chat stream on another node when its node dies mid-answer. */
  continuation: z.boolean().default(true),
  /** Requests in flight per slot at which a node counts as saturated (llama-server queues the excess). */
  saturation_per_slot: z.number().min(1).default(2),
  /** When every eligible node is saturated, wait in a bounded queue for this long at most. */
  queue_length: z.number().int().min(0).default(256),
  queue_timeout_ms: z.number().int().min(0).default(10_000),
});

const storeSchema = z.strictObject({
  redis_url: z.string().min(1).optional(),
  key_prefix: z.string().default("fleetgate:"),
});

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/i, "must be host:port, e.g. 127.0.0.1:9090");

const adminSchema = z.strictObject({
  /** The admin token (FLEETGATE_ADMIN_TOKEN overrides); without one the admin API answers 401. */
  token: z
    .string()
    .optional()
    .transform((token) => token || undefined)
    .refine((token) => token === undefined || token.length >= 16, "must be at least 16 characters"),
  /** Serve /admin/* on this address only, instead of the main port. */
  listen: hostPort.optional(),
});

const metricsSchema = z.strictObject({
  /** Record metrics at all; off, there is no /metrics and no OTLP metrics export. */
  enabled: z.boolean().default(true),
  /** Serve /metrics without the admin token (a scraper on a private network). */
  public: z.boolean().default(false),
});

const accessLogSchema = z.strictObject({
  /** One structured line per API call, at info level. */
  enabled: z.boolean().default(true),
});

export const configSchema = z.strictObject({
  server: serverSchema.default(serverSchema.parse({})),
  location: z.strictObject(locationFields).superRefine(bothOrNeither).optional(),
  regions: z.record(regionCode, z.strictObject({ lat: latitude, lon: longitude })).default({}),
  health: healthSchema.default(healthSchema.parse({})),
  upstream: upstreamSchema.default(upstreamSchema.parse({})),
  routing: routingSchema.default(routingSchema.parse({})),
  resilience: resilienceSchema.default(resilienceSchema.parse({})),
  store: storeSchema.default(storeSchema.parse({})),
  auth: authSchema.default(authSchema.parse({})),
  admin: adminSchema.default(adminSchema.parse({})),
  metrics: metricsSchema.default(metricsSchema.parse({})),
  access_log: accessLogSchema.default(accessLogSchema.parse({})),
  quotas: quotasSchema.default(quotasSchema.parse({})),
  models: modelsSchema.default(modelsSchema.parse({})),
  cache: cacheSchema.default(cacheSchema.parse({})),
  fleet: fleetSchema.default(fleetSchema.parse({})),
  nodes: z
    .array(nodeSchema)
    .default([])
    .superRefine((nodes, ctx) => {
      const seen = new Set<string>();
      nodes.forEach((node, index) => {
        if (seen.has(node.id)) {
          ctx.addIssue({ code: "custom", message: `duplicate node id '${node.id}'`, path: [index, "id"] });
        }
        seen.add(node.id);
      });
    }),
});

export type GatewayConfigInput = z.input<typeof configSchema>;
export type GatewayConfig = z.output<typeof configSchema>;
export type NodeConfig = GatewayConfig["nodes"][number];
export type ApiKeyConfig = GatewayConfig["auth"]["keys"][number];
