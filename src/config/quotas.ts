import { z } from "zod";

/** The quotas of a key or a tenant; the quota stage enforces them across every replica. */
export const limitsSchema = z.strictObject({
  requests_per_minute: z.number().int().min(1).optional(),
  tokens_per_minute: z.number().int().min(1).optional(),
  tokens_per_day: z.number().int().min(1).optional(),
  max_concurrent: z.number().int().min(1).optional(),
});

const tenantName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '_', '.' or '-'");

export const quotasSchema = z.strictObject({
  /** When the store cannot be reached: `open` lets requests through unaccounted, `closed` answers 503. */
  on_store_error: z.enum(["open", "closed"]).default("open"),
  /** Completion tokens reserved for a request that sets no max_tokens; settled to the exact count after. */
  default_max_tokens: z.number().int().min(1).default(1024),
  /** Limits shared by every key of a tenant, on top of each key's own. */
  tenants: z.record(tenantName, limitsSchema).default({}),
  /** Whether an answer from the prompt cache counts against the key's quota. */
  charge_cache_hits: z.boolean().default(false),
  /** How long the usage ledger keeps its minute buckets. */
  ledger_retention_days: z.number().int().min(1).max(400).default(7),
});

export type KeyLimits = z.output<typeof limitsSchema>;
export type QuotasConfig = z.output<typeof quotasSchema>;
