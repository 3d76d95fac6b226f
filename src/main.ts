import type { GatewayConfig } from "./config/index.js";
import { FleetRegistry, type NodeRecord, Prober } from "./fleet/index.js";
import { Gateway } from "./gateway/index.js";
import { resolveRegion } from "./geo/index.js";
import { createApp, type HttpServer, listen } from "./http/index.js";
import { createRoutingPolicy } from "./routing/index.js";
import type { Logger } from "./telemetry/index.js";
import { createProbeTransport, UpstreamPools } from "./upstream/index.js";

/** Failover tries at most this many nodes before giving up on a request. */
const MAX_ATTEMPTS = 3;
const RESPONSE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly registry: FleetRegistry;
  readonly gateway: Gateway;
  /** Runs one probe round now (tests use it instead of waiting for the interval). */
  probeNow(): Promise<void>;
  /** Stops accepting and fails readiness at once; open responses get `drainMs` to finish. */
  close(drainMs?: number): Promise<void>;
}

/** The composition root: builds every module from the frozen config and starts serving. */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<RunningGateway> {
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
  const pools = new UpstreamPools({
    maxConnectionsPerNode: config.upstream.max_connections_per_node,
    connectTimeoutMs: config.upstream.connect_timeout_ms,
    keepAliveTimeoutMs: config.upstream.keepalive_timeout_ms,
  });
  const prober = new Prober(
    registry,
    createProbeTransport(pools),
    { intervalMs: config.health.interval_ms, timeoutMs: config.health.timeout_ms },
    log,
  );
  const gateway = new Gateway({
    registry,
    policy: createRoutingPolicy(config.routing.strategy, { random: Math.random }),
    pools,
    clock,
    log,
    settings: {
      keepAliveMs: config.server.keepalive_interval_ms,
      requestTimeoutMs: config.server.request_timeout_ms,
      maxAttempts: MAX_ATTEMPTS,
      responseLimitBytes: RESPONSE_LIMIT_BYTES,
    },
  });
  let draining = false;
  const app = createApp({
    gateway,
    registry,
    bodyLimitBytes: config.server.body_limit_bytes,
    log,
    draining: () => draining,
  });
  await prober.probeAll();
  prober.start();
  const server: HttpServer = await listen(app, config.server.host, config.server.port);
  log.info("fleetgate listening", {
    url: server.url,
    nodes: registry.all().length,
    healthy: registry.healthy().length,
  });
  return {
    url: server.url,
    port: server.port,
    registry,
    gateway,
    probeNow: () => prober.probeAll(),
    async close(drainMs = 0) {
      draining = true;
      prober.stop();
      const closed = server.close();
      const deadline = setTimeout(() => server.closeAllConnections(), drainMs);
      await closed;
      clearTimeout(deadline);
      await pools.close();
    },
  };
}

function nodeRecords(config: GatewayConfig): NodeRecord[] {
  const custom = new Map(Object.entries(config.regions));
  return config.nodes.map((node) => ({
    id: node.id,
    url: node.url,
    region: node.region,
    location:
      node.lat !== undefined && node.lon !== undefined
        ? { lat: node.lat, lon: node.lon }
        : node.region
          ? resolveRegion(node.region, custom)
          : undefined,
    apiKey: node.api_key,
    declaredModels: node.models,
    declaredSlots: node.slots,
  }));
}
