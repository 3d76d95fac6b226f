import { z } from "zod";
import type { StateStore } from "../store/index.js";

/**
 * The registered nodes, in the store every replica shares: one hash, one field per node, so a
 * replica reads the whole fleet with one call and a heartbeat costs one write. Each record carries
 * its own expiry (hash fields have none); readers ignore expired records and prune them.
 */
const NODES_KEY = "fleet:{fleet}:nodes";
const claimKey = (id: string) => `fleet:{fleet}:claim:${id}`;

const readingSchema = z.strictObject({
  slots_total: z.number().int().min(0).max(4096).optional(),
  slots_busy: z.number().int().min(0).max(4096).optional(),
  deferred: z.number().int().min(0).optional(),
});

const propsSchema = z.strictObject({
  n_ctx: z.number().int().min(0).optional(),
  total_slots: z.number().int().min(0).max(4096).optional(),
  model_alias: z.string().max(512).optional(),
  model_path: z.string().max(4096).optional(),
});

/** What an agent reports with each heartbeat: its own reading of /slots, /metrics and /props. */
export const heartbeatSchema = z.strictObject({
  reading: readingSchema.optional(),
  props: propsSchema.optional(),
});
export type Heartbeat = z.output<typeof heartbeatSchema>;

const nodeId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '_', '.' or '-'");

export const registrationSchema = z
  .strictObject({
    id: nodeId,
    url: z.string().min(1).max(2048),
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/i, "must be a region code such as 'fra'")
      .transform((code) => code.toLowerCase())
      .optional(),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    models: z.array(z.string().min(1).max(256)).min(1).max(64).optional(),
    slots: z.number().int().min(1).max(4096).optional(),
  })
  .refine((r) => (r.lat === undefined) === (r.lon === undefined), {
    message: "lat and lon must be given together",
    path: ["lat"],
  });
export type Registration = z.output<typeof registrationSchema>;

const storedSchema = z.object({
  node: z.object({
    id: nodeId,
    url: z.string(),
    region: z.string().optional(),
    lat: z.number().optional(),
    lon: z.number().optional(),
    models: z.array(z.string()).optional(),
    slots: z.number().optional(),
  }),
  owner: z.string(),
  draining: z.boolean(),
  registered_at: z.number(),
  expires_at: z.number(),
  heartbeat: heartbeatSchema.optional(),
});
export type StoredNode = z.output<typeof storedSchema>;

export type Change = "created" | "refreshed" | "conflict" | "not_found";

export interface DirectoryOptions {
  readonly ttlMs: number;
  /** Wall-clock time, shared by replicas through the records' expiry. */
  readonly now?: () => number;
}

export class NodeDirectory {
  private readonly now: () => number;
  /** The last raw record per id, so a sync parses only what changed. */
  private readonly parsed = new Map<string, { raw: string; record: StoredNode | undefined }>();

  constructor(
    private readonly store: StateStore,
    private readonly options: DirectoryOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Creates or renews a registration. The same id under another URL or another enrollment token is a
   * conflict: nobody takes over a node they did not register. A renewal keeps the node's drain flag.
   */
  async register(owner: string, node: Registration): Promise<Change> {
    const current = await this.read(node.id);
    if (current && (current.owner !== owner || current.node.url !== node.url)) return "conflict";
    if (!current && !(await this.claim(owner, node))) return "conflict";
    const now = this.now();
    await this.write({
      node,
      owner,
      draining: current?.draining ?? false,
      registered_at: current && sameClaims(current.node, node) ? current.registered_at : now,
      expires_at: now + this.options.ttlMs,
      heartbeat: current?.heartbeat,
    });
    return current ? "refreshed" : "created";
  }

  async heartbeat(owner: string, id: string, beat: Heartbeat): Promise<Change> {
    return this.update(owner, id, (record) => ({ ...record, heartbeat: beat }));
  }

  async drain(owner: string, id: string): Promise<Change> {
    return this.update(owner, id, (record) => ({ ...record, draining: true }));
  }

  async deregister(owner: string, id: string): Promise<Change> {
    const current = await this.read(id);
    if (!current) return "not_found";
    if (current.owner !== owner) return "conflict";
    await this.store.hashDelete(NODES_KEY, id);
    await this.store.delete(claimKey(id));
    return "refreshed";
  }

  /**
   * A new id is claimed atomically before it is written, so that of two registrations of one id at
   * once (each reading no record), the one with another URL or token gets its conflict. The claim
   * lives one TTL: after that the record itself answers who holds the id.
   */
  private async claim(owner: string, node: Registration): Promise<boolean> {
    const claim = `${owner} ${node.url}`;
    if (await this.store.setIfAbsent(claimKey(node.id), claim, this.options.ttlMs)) return true;
    return (await this.store.get(claimKey(node.id))) === claim;
  }

  /** Every live registration; expired ones are removed from the store as they are met. */
  async list(): Promise<StoredNode[]> {
    const fields = await this.store.hashGetAll(NODES_KEY);
    const now = this.now();
    const live: StoredNode[] = [];
    for (const [id, raw] of fields) {
      const record = this.decode(id, raw);
      if (record && record.expires_at > now) live.push(record);
      else await this.store.hashDelete(NODES_KEY, id);
    }
    for (const id of this.parsed.keys()) if (!fields.has(id)) this.parsed.delete(id);
    return live;
  }

  /** Refreshing the expiry is part of every update: a drain or a heartbeat says the node is alive. */
  private async update(owner: string, id: string, change: (r: StoredNode) => StoredNode): Promise<Change> {
    const current = await this.read(id);
    if (!current || current.expires_at <= this.now()) return "not_found";
    if (current.owner !== owner) return "conflict";
    await this.write({ ...change(current), expires_at: this.now() + this.options.ttlMs });
    return "refreshed";
  }

  private async read(id: string): Promise<StoredNode | undefined> {
    const raw = await this.store.hashGet(NODES_KEY, id);
    return raw === undefined ? undefined : this.decode(id, raw);
  }

  private write(record: StoredNode): Promise<void> {
    return this.store.hashSet(NODES_KEY, record.node.id, JSON.stringify(record));
  }

  /** A record another version wrote, or garbage, counts as absent rather than crashing a sync. */
  private decode(id: string, raw: string): StoredNode | undefined {
    const cached = this.parsed.get(id);
    if (cached?.raw === raw) return cached.record;
    let record: StoredNode | undefined;
    try {
      const parsed = storedSchema.safeParse(JSON.parse(raw));
      record = parsed.success && parsed.data.node.id === id ? parsed.data : undefined;
    } catch {
      record = undefined;
    }
    this.parsed.set(id, { raw, record });
    return record;
  }
}

/** Whether a re-registration claims the same as before; a new claim must be verified again. */
export function sameClaims(a: StoredNode["node"], b: StoredNode["node"]): boolean {
  return JSON.stringify([a.url, a.models, a.slots]) === JSON.stringify([b.url, b.models, b.slots]);
}
