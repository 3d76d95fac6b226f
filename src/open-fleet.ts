// Composition of the open fleet (registered nodes): the shared directory, this replica's sync of it,
// and the registration routes' dependencies. Part of the composition root, split from main.ts.
import type { GatewayConfig } from "./config/index.js";
import { type FleetRegistry, NodeDirectory, type ProbeTransport, RegisteredFleet } from "./fleet/index.js";
import { type LatLon, resolveRegion } from "./geo/index.js";
import type { FleetRouteDeps } from "./http/index.js";
import type { StateStore } from "./store/index.js";
import type { Logger } from "./telemetry/index.js";
import { checkNodeUrl, type GuardPolicy, type UpstreamPools } from "./upstream/index.js";

export interface OpenFleet {
  readonly fleet: RegisteredFleet;
  readonly routes: FleetRouteDeps;
}

export function openFleet(
  config: GatewayConfig,
  parts: {
    store: StateStore;
    registry: FleetRegistry;
    transport: ProbeTransport;
    guard: GuardPolicy;
    log: Logger;
    /** Where the connections to an origin no node uses any more are dropped. */
    pools: UpstreamPools;
  },
): OpenFleet {
  const settings = config.fleet;
  const custom = new Map(Object.entries(config.regions));
  const directory = new NodeDirectory(parts.store, { ttlMs: settings.heartbeat_ttl_ms });
  const locate = (node: {
    region?: string | undefined;
    lat?: number | undefined;
    lon?: number | undefined;
  }) =>
    node.lat !== undefined && node.lon !== undefined
      ? ({ lat: node.lat, lon: node.lon } satisfies LatLon)
      : node.region
        ? resolveRegion(node.region, custom)
        : undefined;
  const fleet = new RegisteredFleet({
    directory,
    registry: parts.registry,
    transport: parts.transport,
    syncIntervalMs: settings.sync_interval_ms,
    reverifyIntervalMs: settings.reverify_interval_ms,
    verifyTimeoutMs: settings.verify_timeout_ms,
    locate,
    log: parts.log,
    onLeave: (record) => {
      const origin = new URL(record.url).origin;
      const shared = parts.registry.all().some((entry) => new URL(entry.record.url).origin === origin);
      if (!shared) parts.pools.release(origin);
    },
  });
  return {
    fleet,
    routes: {
      directory,
      registry: parts.registry,
      enrollmentTokens: settings.enrollment_tokens,
      checkUrl: (url) => checkNodeUrl(url, parts.guard),
      isRegion: (code) => resolveRegion(code, custom) !== undefined,
      heartbeatIntervalMs: settings.heartbeat_interval_ms,
      ttlMs: settings.heartbeat_ttl_ms,
    },
  };
}
