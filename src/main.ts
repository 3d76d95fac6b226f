import { promptCache, setUpAccounting } from "./call-services.js";
import type { GatewayConfig } from "./config/index.js";
import { FleetView } from "./dashboard/index.js";
import { FleetRegistry, type NodeRecord, Prober } from "./fleet/index.js";
import { AffinityMemory, fleetReading, Gateway, type LocalityPolicy, observeCalls } from "./gateway/index.js";
import { type LatLon, resolveRegion } from "./geo/index.js";
import {
  adminCaller,
  corsPolicy,
  createAdminApp,
  createApp,
  type HttpServer,
  listen,
  type ServerLimits,
} from "./http/index.js";
import { openFleet } from "./open-fleet.js";
import { AdmissionQueue, NodeBreakers, RetryBudget } from "./resilience/index.js";
import { createRoutingPolicy } from "./routing/index.js";
import { createStore, observeStoreErrors, type StateStore } from "./store/index.js";
import { type EnvVars, type Logger, startTelemetry } from "./telemetry/index.js";
import { createProbeTransport, type Resolver, systemResolver, UpstreamPools } from "./upstream/index.js";

const FINAL_WRITE_MS = 200;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly registry: FleetRegistry;
  readonly gateway: Gateway;
  /** Where the admin API is served: the main URL, or `admin.listen`'s. */
  readonly adminUrl: string;
  /** Runs one probe round now (tests use it instead of waiting for the interval). */
  probeNow(): Promise<void>;
  /** Reads the shared registry of joined nodes now. */
  syncFleetNow(): Promise<void>;
  /** Stops accepting and fails readiness at once; open responses get `drainMs` to finish. */
  close(drainMs?: number): Promise<void>;
}

/**
 * The composition root: builds every module from the frozen config and starts serving. `env` is
 * the process environment, read here for the OTEL_* variables only.
 */
export interface StartHooks {
  /** Name resolution for the SSRF guard (tests play a rebinding DNS server with it). */
  readonly resolve?: Resolver | undefined;
}

export async function startGateway(
  config: GatewayConfig,
  log: Logger,
  env: EnvVars = {},
  hooks: StartHooks = {},
): Promise<RunningGateway> {
  const clock = () => performance.now();
  const registry = new FleetRegistry(nodeRecords(config), {
    thresholds: {
      unhealthyAfter: config.health.unhealthy_threshold,
      healthyAfter: config.health.healthy_threshold,
    },
    clock,
    onHealthChange: (entry, from) =>
      log.info("node health changed", { node: entry.id, from, to: entry.state, reason: entry.lastError }),
  });
  const guard = { allowPrivate: config.fleet.allow_private_urls, resolve: hooks.resolve ?? systemResolver };
  const pools = new UpstreamPools({
    maxConnectionsPerNode: config.upstream.max_connections_per_node,
    connectTimeoutMs: config.upstream.connect_timeout_ms,
    keepAliveTimeoutMs: config.upstream.keepalive_timeout_ms,
    limits: {
      maxEventBytes: config.resilience.max_event_bytes,
      maxResponseBytes: config.resilience.max_response_bytes,
    },
    bufferedBytesBudget: config.resilience.buffered_bytes_budget,
    guard,
    trustedOrigins: new Set(config.nodes.map((node) => new URL(node.url).origin)),
  });
  const transport = createProbeTransport(pools);
  const prober = new Prober(
    registry,
    transport,
    { intervalMs: config.health.interval_ms, timeoutMs: config.health.timeout_ms },
    log,
  );
  const resilience = config.resilience;
  const breakers = new NodeBreakers({
    settings: {
      errorThresholdPercentage: resilience.breaker.error_threshold_percentage,
      volumeThreshold: resilience.breaker.volume_threshold,
      rollingWindowMs: resilience.breaker.window_ms,
      resetTimeoutMs: resilience.breaker.reset_timeout_ms,
    },
  });
  breakers.onStateChange((id, state) => {
    registry.setBreakerState(id, state);
    log.info("node breaker changed", { node: id, state });
  });
  const admission = new AdmissionQueue({ maxQueue: resilience.queue_length });
  const telemetry = startTelemetry({
    env,
    metrics: config.metrics.enabled,
    fleet: () => fleetReading(registry, admission.length),
  });
  const metrics = telemetry.metrics;
  const plainStore = createStore({ redisUrl: config.store.redis_url, keyPrefix: config.store.key_prefix });
  const store: StateStore = metrics
    ? observeStoreErrors(plainStore, (operation) => metrics.storeError(operation))
    : plainStore;
  const open = openFleet(config, { store, registry, transport, guard, log, pools });
  const { keys, enforced, counter, ledger, quotas } = await setUpAccounting(config, store, metrics, log);
  const tuning = config.routing.latency;
  const gateway = new Gateway({
    registry,
    keys: enforced ? keys : undefined,
    policy: createRoutingPolicy(config.routing.strategy, {
      random: Math.random,
      latency: {
        explorationRate: tuning.exploration_rate,
        affinityLoadEpsilon: tuning.affinity_load_epsilon,
        nearEqualMs: tuning.near_equal_ms,
      },
    }),
    locality: localityPolicy(config),
    affinity: config.routing.affinity
      ? new AffinityMemory(store, config.routing.affinity_ttl_ms, log)
      : undefined,
    pools,
    breakers,
    budget: new RetryBudget({
      ratio: resilience.retry_budget_ratio,
      minRetriesPerSecond: resilience.retry_budget_min_per_second,
    }),
    admission,
    clock,
    log,
    tracer: telemetry.tracer,
    quotas: { quotas, counter, now: Date.now },
    modelNames: { aliases: config.models.aliases, fallback: config.models.default },
    isAdmin: adminCaller(config.admin.token),
    cache: promptCache(config, store, metrics),
    settings: {
      keepAliveMs: config.server.keepalive_interval_ms,
      keepAliveAfterMs: config.server.keepalive_after_ms,
      requestTimeoutMs: config.server.request_timeout_ms,
      maxAttempts: resilience.max_attempts,
      responseLimitBytes: resilience.max_response_bytes,
      ttftTimeoutMs: resilience.ttft_timeout_ms,
      idleTimeoutMs: resilience.idle_timeout_ms,
      responseTimeoutMs: resilience.response_timeout_ms,
      continuation: resilience.continuation,
      hedging: resilience.hedging,
      saturationPerSlot: resilience.saturation_per_slot,
      queueTimeoutMs: resilience.queue_timeout_ms,
    },
  });
  observeCalls(gateway, telemetry, registry, config.access_log.enabled ? log : undefined);
  const dashboard = new FleetView({ nodes: () => registry.all(), draining: () => gateway.isDraining });
  gateway.onOutcome("dashboard", dashboard.observe);
  const customRegions = new Map(Object.entries(config.regions));
  const admin = {
    registry,
    token: config.admin.token,
    keys,
    enforced,
    isRegion: (code: string) => resolveRegion(code, customRegions) !== undefined,
    dashboard,
    ledger,
  };
  if (!admin.token)
    log.warn("no admin token (FLEETGATE_ADMIN_TOKEN or admin.token): the admin API refuses every call");
  const separateAdmin = config.admin.listen !== undefined;
  const prometheus = telemetry.prometheus;
  const app = createApp({
    gateway,
    registry,
    log,
    admin: separateAdmin ? undefined : admin,
    metrics: prometheus && { prometheus, public: config.metrics.public, token: config.admin.token },
    fleet: open.routes,
  });
  await prober.probeAll();
  prober.start();
  open.fleet.start();
  const proxy = { gateway, bodyLimitBytes: config.server.body_limit_bytes, log };
  const limits = serverLimits(config);
  const server: HttpServer = await listen(app, proxy, {
    host: config.server.host,
    port: config.server.port,
    limits,
    cors: corsPolicy(config.server.cors.origins),
  });
  const adminServer = config.admin.listen
    ? await listenAdmin(createAdminApp(admin, log), config.admin.listen, limits)
    : undefined;
  log.info("fleetgate listening", {
    url: server.url,
    admin: adminServer?.url ?? server.url,
    auth: enforced ? "keys" : "open",
    nodes: registry.all().length,
    healthy: registry.healthy().length,
    metrics: prometheus ? `${server.url}/metrics` : "off",
    otlp: telemetry.exporting,
  });
  return {
    url: server.url,
    port: server.port,
    adminUrl: adminServer?.url ?? server.url,
    registry,
    gateway,
    probeNow: () => prober.probeAll(),
    syncFleetNow: () => open.fleet.sync(),
    async close(drainMs = 0) {
      gateway.beginDrain();
      prober.stop();
      open.fleet.stop();
      const closed = server.close();
      await adminServer?.close();
      const finished = await Promise.race([closed.then(() => true), sleep(drainMs).then(() => false)]);
      if (!finished) {
        log.warn("drain timeout: ending open calls", { drainMs });
        gateway.endOpenCalls();
        // Let the error events reach the clients before the sockets go.
        await sleep(FINAL_WRITE_MS);
        server.closeAllConnections();
        await closed;
      }
      breakers.shutdown();
      await pools.close();
      // The last calls' settlements and ledger entries go out before the store closes.
      await quotas.flush();
      await store.close();
      await telemetry.shutdown();
    },
  };
}

/** The admin API on its own address (e.g. loopback only), apart from the public port. */
function listenAdmin(
  app: ReturnType<typeof createAdminApp>,
  address: string,
  limits: ServerLimits,
): Promise<HttpServer> {
  const cut = address.lastIndexOf(":");
  const host = address.slice(0, cut).replace(/^\[(.*)\]$/, "$1");
  return listen(app, undefined, { host, port: Number(address.slice(cut + 1)), limits });
}

function serverLimits({ server }: GatewayConfig): ServerLimits {
  return {
    headersTimeoutMs: server.headers_timeout_ms,
    bodyTimeoutMs: server.body_timeout_ms,
    idleTimeoutMs: server.idle_timeout_ms,
    maxConnections: server.max_connections,
  };
}

type Place = { region?: string | undefined; lat?: number | undefined; lon?: number | undefined };

/** Coordinates win over a region code; the region table (custom first) resolves codes. */
function locate(place: Place | undefined, custom: ReadonlyMap<string, LatLon>): LatLon | undefined {
  if (place?.lat !== undefined && place.lon !== undefined) return { lat: place.lat, lon: place.lon };
  return place?.region ? resolveRegion(place.region, custom) : undefined;
}

function localityPolicy(config: GatewayConfig): LocalityPolicy {
  const customRegions = new Map(Object.entries(config.regions));
  return {
    gatewayLocation: locate(config.location, customRegions),
    clientRelative: config.routing.client_relative,
    allowedRegions: config.routing.allowed_regions ? new Set(config.routing.allowed_regions) : undefined,
    residency: config.routing.residency.map((rule) => ({
      clientRegions: new Set(rule.client_regions),
      nodeRegions: new Set(rule.node_regions),
    })),
    customRegions,
    trustCloudflareHeaders: config.routing.trust_cloudflare_headers,
  };
}

function nodeRecords(config: GatewayConfig): NodeRecord[] {
  const custom = new Map(Object.entries(config.regions));
  return config.nodes.map((node) => ({
    id: node.id,
    url: node.url,
    region: node.region,
    location: locate(node, custom),
    apiKey: node.api_key,
    declaredModels: node.models,
    declaredSlots: node.slots,
  }));
}
