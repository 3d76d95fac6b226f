import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { errors, type GatewayError } from "../errors.js";
import type { StateStore } from "../store/index.js";

/** Quotas a key may carry; the accounting stage enforces them. */
export interface KeyLimits {
  readonly requests_per_minute?: number | undefined;
  readonly tokens_per_minute?: number | undefined;
  readonly tokens_per_day?: number | undefined;
  /** Calls of the key in flight at once, across every replica. */
  readonly max_concurrent?: number | undefined;
}

/** What a key may do, as the admin API and the config give it. */
export interface KeyGrant {
  readonly tenant: string;
  readonly models?: readonly string[] | undefined;
  readonly regions?: readonly string[] | undefined;
  readonly limits?: KeyLimits | undefined;
}

/** A key as the config declares it: only the sha256 of its secret is known. */
export interface ConfiguredKey extends KeyGrant {
  readonly id: string;
  readonly sha256: string;
}

/** A key as operators see it: never its secret or its hash. */
export interface KeyInfo extends KeyGrant {
  readonly id: string;
  readonly source: "config" | "admin";
  readonly created_at: string | null;
  readonly revoked_at: string | null;
}

/** Who is calling, as every later stage sees it. */
export interface Principal {
  /** Undefined when the gateway runs open (no keys configured). */
  readonly keyId: string | undefined;
  readonly tenant: string;
  readonly models: ReadonlySet<string> | undefined;
  readonly regions: ReadonlySet<string> | undefined;
  readonly limits: KeyLimits | undefined;
}

export const OPEN_PRINCIPAL: Principal = Object.freeze({
  keyId: undefined,
  tenant: "anonymous",
  models: undefined,
  regions: undefined,
  limits: undefined,
});

const STORE_KEY = "apikeys";
/** Admin-issued secrets name their key, so a lookup is one store read: `fg_<id>_<secret>`. */
const ISSUED = /^fg_([0-9a-f]{16})_[A-Za-z0-9_-]{32}$/;
const CACHE_MAX = 10_000;

const storedSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  models: z.array(z.string()).optional(),
  regions: z.array(z.string()).optional(),
  limits: z
    .object({
      requests_per_minute: z.number().optional(),
      tokens_per_minute: z.number().optional(),
      tokens_per_day: z.number().optional(),
      max_concurrent: z.number().optional(),
    })
    .optional(),
  created_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  source: z.enum(["config", "admin"]),
});
interface StoredKey extends KeyGrant {
  readonly id: string;
  readonly sha256: string;
  readonly created_at: string | null;
  readonly revoked_at: string | null;
  readonly source: "config" | "admin";
}

export interface KeyRingOptions {
  readonly configured: readonly ConfiguredKey[];
  readonly store: StateStore;
  /** How long a replica trusts its copy of a stored key; revocation reaches it within this. */
  readonly cacheMs: number;
  readonly now?: () => number;
  /**
   * When the store cannot be read (`quotas.on_store_error`): `open` trusts a configured key without its
   * revocation check, `closed` refuses with 503. A key only the store knows cannot be checked either way.
   */
  readonly onStoreError?: { readonly decision: "open" | "closed"; readonly fellBack: () => void } | undefined;
}

/** The token of an `Authorization: Bearer <token>` header; undefined when absent or malformed. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)?.[1];
}

export function sha256Hex(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/**
 * The API keys: those in the config, and those the admin API issues, kept in the shared store so
 * that every replica accepts a new key and refuses a revoked one within `cacheMs`. Only hashes are
 * kept, and they are compared in constant time.
 */
export class KeyRing {
  private readonly configured: ReadonlyArray<{ key: ConfiguredKey; digest: Buffer }>;
  private readonly cache = new Map<string, { record: StoredKey | undefined; at: number }>();
  private readonly now: () => number;

  constructor(private readonly options: KeyRingOptions) {
    this.configured = options.configured.map((key) => ({ key, digest: Buffer.from(key.sha256, "hex") }));
    this.now = options.now ?? Date.now;
  }

  /** The principal a presented secret stands for, or why it is refused. */
  async authenticate(secret: string | undefined): Promise<Principal | GatewayError> {
    if (!secret) return errors.invalidApiKey("missing");
    const digest = createHash("sha256").update(secret).digest();
    const configured = this.matchConfigured(digest);
    const id = configured?.id ?? ISSUED.exec(secret)?.[1];
    if (id === undefined) return errors.invalidApiKey("unknown");
    let stored: StoredKey | undefined;
    try {
      stored = await this.lookup(id);
    } catch (err) {
      const policy = this.options.onStoreError;
      if (!policy) throw err;
      policy.fellBack();
      if (configured && policy.decision === "open") return principalOf(configured);
      return errors.storeUnavailable("API keys");
    }
    if (stored?.revoked_at) return errors.invalidApiKey("revoked");
    if (configured) return principalOf(configured);
    if (!stored || !timingSafeEqual(digest, Buffer.from(stored.sha256, "hex"))) {
      return errors.invalidApiKey("unknown");
    }
    return principalOf(stored);
  }

  /** Issues a key; the secret is returned this once and only its hash is stored. */
  async create(grant: KeyGrant): Promise<{ info: KeyInfo; secret: string }> {
    const id = randomBytes(8).toString("hex");
    const secret = `fg_${id}_${randomBytes(24).toString("base64url")}`;
    const record: StoredKey = {
      id,
      ...grantFields(grant),
      sha256: sha256Hex(secret),
      created_at: new Date(this.now()).toISOString(),
      revoked_at: null,
      source: "admin",
    };
    await this.options.store.hashSet(STORE_KEY, id, JSON.stringify(record));
    return { info: infoOf(record), secret };
  }

  async list(): Promise<KeyInfo[]> {
    const stored = new Map<string, StoredKey>();
    for (const [id, json] of await this.options.store.hashGetAll(STORE_KEY)) {
      const record = parseStored(json);
      if (record) stored.set(id, record);
    }
    const fromConfig = this.configured.map(({ key }) => ({
      ...infoOf({ ...key, created_at: null, revoked_at: null, source: "config" }),
      revoked_at: stored.get(key.id)?.revoked_at ?? null,
    }));
    const issued = [...stored.values()].filter((record) => record.source === "admin").map(infoOf);
    return [...fromConfig, ...issued];
  }

  /** Revokes a key, issued or configured; every replica refuses it once its cached copy expires. */
  async revoke(id: string): Promise<KeyInfo> {
    const configured = this.configured.find(({ key }) => key.id === id)?.key;
    const existing: StoredKey | undefined =
      (await this.read(id)) ??
      (configured && { ...configured, created_at: null, revoked_at: null, source: "config" });
    if (!existing) throw errors.keyNotFound(id);
    const revoked: StoredKey = {
      ...existing,
      revoked_at: existing.revoked_at ?? new Date(this.now()).toISOString(),
    };
    await this.options.store.hashSet(STORE_KEY, id, JSON.stringify(revoked));
    this.cache.delete(id);
    return infoOf(revoked);
  }

  /** Whether any key exists that could authenticate a request. */
  async any(): Promise<boolean> {
    if (this.configured.length > 0) return true;
    for (const json of (await this.options.store.hashGetAll(STORE_KEY)).values()) {
      if (parseStored(json)?.revoked_at === null) return true;
    }
    return false;
  }

  /** Every configured hash is compared, so the time taken does not tell which one matched. */
  private matchConfigured(digest: Buffer): ConfiguredKey | undefined {
    let found: ConfiguredKey | undefined;
    for (const { key, digest: known } of this.configured) {
      if (timingSafeEqual(digest, known)) found = key;
    }
    return found;
  }

  private async lookup(id: string): Promise<StoredKey | undefined> {
    const hit = this.cache.get(id);
    const now = this.now();
    if (hit && now - hit.at < this.options.cacheMs) return hit.record;
    const record = await this.read(id);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.delete(id);
    this.cache.set(id, { record, at: now });
    return record;
  }

  private async read(id: string): Promise<StoredKey | undefined> {
    const json = await this.options.store.hashGet(STORE_KEY, id);
    return json === undefined ? undefined : parseStored(json);
  }
}

function parseStored(json: string): StoredKey | undefined {
  try {
    const parsed = storedSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function grantFields(grant: KeyGrant): KeyGrant {
  return {
    tenant: grant.tenant,
    ...(grant.models ? { models: [...grant.models] } : {}),
    ...(grant.regions ? { regions: [...grant.regions] } : {}),
    ...(grant.limits ? { limits: { ...grant.limits } } : {}),
  };
}

function infoOf(record: StoredKey): KeyInfo {
  return {
    id: record.id,
    source: record.source,
    ...grantFields(record),
    created_at: record.created_at,
    revoked_at: record.revoked_at,
  };
}

function principalOf(key: KeyGrant & { readonly id: string }): Principal {
  return {
    keyId: key.id,
    tenant: key.tenant,
    models: key.models ? new Set(key.models) : undefined,
    regions: key.regions ? new Set(key.regions) : undefined,
    limits: key.limits,
  };
}
