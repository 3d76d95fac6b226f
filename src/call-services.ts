/**
 * Part of the composition root: what every call uses besides the fleet, built from the config over
 * the shared store: the API keys, the quotas with their usage ledger and prompt counter, the prompt cache.
 */
import { KeyRing, Quotas, TokenCounter, UsageLedger } from "./accounting/index.js";
import { type CacheEvents, PromptCache } from "./cache/index.js";
import type { GatewayConfig } from "./config/index.js";
import type { StateStore } from "./store/index.js";
import type { GatewayMetrics, Logger } from "./telemetry/index.js";

/** Who may call and what they may use: the key ring, the quotas with their ledger, the prompt counter. */
export interface Accounting {
  readonly keys: KeyRing;
  /** Whether API calls need a key. */
  readonly enforced: boolean;
  readonly counter: TokenCounter;
  readonly ledger: UsageLedger;
  readonly quotas: Quotas;
}

export async function setUpAccounting(
  config: GatewayConfig,
  store: StateStore,
  metrics: GatewayMetrics | undefined,
  log: Logger,
): Promise<Accounting> {
  const onStoreError = config.quotas.on_store_error;
  const keys = new KeyRing({
    configured: config.auth.keys,
    store,
    cacheMs: config.auth.key_cache_ms,
    onStoreError: {
      decision: onStoreError,
      fellBack: () => metrics?.quotaFallback("authenticate", onStoreError),
    },
  });
  const enforced = await authEnforced(config, keys, log);
  const counter = new TokenCounter();
  // Loading the encoding blocks for a few hundred ms: at startup, not on the first limited request.
  if (enforced || Object.keys(config.quotas.tenants).length > 0) counter.warm();
  const ledger = new UsageLedger(store, config.quotas.ledger_retention_days * 86_400_000);
  const quotas = new Quotas(
    store,
    ledger,
    {
      onStoreError,
      defaultMaxTokens: config.quotas.default_max_tokens,
      tenants: config.quotas.tenants,
      chargeCacheHits: config.quotas.charge_cache_hits,
      // A replica that dies mid-call cannot release its slot: it lapses once no call could still run.
      slotTtlMs: config.server.request_timeout_ms + 5_000,
      settleBatchMs: 100,
    },
    {
      warn: (message, fields) => log.warn(message, fields),
      onFallback: (operation, decision) => metrics?.quotaFallback(operation, decision),
      onRefused: (limit) => metrics?.quotaRefused(limit),
    },
  );
  return { keys, enforced, counter, ledger, quotas };
}

/**
 * Whether API calls need a key: with keys in the config, or `auth.required`. Required with nothing
 * to authenticate against (no configured key, none in the store, no admin token to issue one) is a
 * gateway nobody could use, so it refuses to start.
 */
async function authEnforced(config: GatewayConfig, keys: KeyRing, log: Logger): Promise<boolean> {
  if (config.auth.keys.length > 0) return true;
  if (!config.auth.required) {
    log.warn("no API keys configured: the gateway is open to anyone (set auth.keys or auth.required)");
    return false;
  }
  if (!(await keys.any()) && !config.admin.token) {
    throw new Error(
      "auth.required is true but no key exists: configure auth.keys, or an admin token to issue keys with POST /admin/keys",
    );
  }
  return true;
}

/** The prompt cache over the shared store, counting its fills and fallbacks; none when `cache.mode` is off. */
export function promptCache(
  { cache }: GatewayConfig,
  store: StateStore,
  metrics: GatewayMetrics | undefined,
): PromptCache | undefined {
  if (cache.mode === "off") return undefined;
  const events: CacheEvents = {
    fill: () => metrics?.cacheFill(),
    storeFallback: () => metrics?.cacheStoreFallback(),
  };
  return new PromptCache(
    store,
    {
      mode: cache.mode,
      ttlMs: cache.ttl_ms,
      maxEntryBytes: cache.max_entry_bytes,
      memoryBytes: cache.memory_bytes,
      singleFlightWaitMs: cache.single_flight_wait_ms,
      storeRetryMs: cache.store_retry_ms,
    },
    events,
  );
}
