import { createHash } from "node:crypto";
import { z } from "zod";
import { regionCode } from "./fields.js";
import { limitsSchema } from "./quotas.js";

const sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/i, "must be the key's sha256 as 64 hex digits")
  .transform((hex) => hex.toLowerCase());

/**
 * An API key from the config: its sha256, or the secret itself through `${ENV}`. Only the hash is
 * kept, so the compiled config never holds a client secret.
 */
const apiKeySchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '_', '.' or '-'"),
    tenant: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '_', '.' or '-'"),
    key: z.string().min(16, "must be at least 16 characters").optional(),
    key_sha256: sha256Hex.optional(),
    models: z.array(z.string().min(1)).min(1).optional(),
    regions: z.array(regionCode).min(1).optional(),
    limits: limitsSchema.optional(),
  })
  .superRefine((entry, ctx) => {
    if ((entry.key === undefined) === (entry.key_sha256 === undefined)) {
      ctx.addIssue({ code: "custom", message: "give exactly one of key and key_sha256", path: ["key"] });
    }
  })
  .transform(({ key, key_sha256, ...rest }) => ({
    ...rest,
    sha256:
      key_sha256 ??
      createHash("sha256")
        .update(key ?? "")
        .digest("hex"),
  }));

export const authSchema = z.strictObject({
  /** Refuse to start unless keys can exist (config keys, or an admin token to create them). */
  required: z.boolean().default(false),
  keys: z
    .array(apiKeySchema)
    .default([])
    .superRefine((keys, ctx) => {
      const ids = new Set<string>();
      const hashes = new Set<string>();
      keys.forEach((key, index) => {
        if (ids.has(key.id))
          ctx.addIssue({ code: "custom", message: `duplicate key id '${key.id}'`, path: [index, "id"] });
        if (hashes.has(key.sha256))
          ctx.addIssue({ code: "custom", message: "the same key is configured twice", path: [index, "key"] });
        ids.add(key.id);
        hashes.add(key.sha256);
      });
    }),
  /** How long a replica trusts its copy of a store-held key; revocation reaches every replica within it. */
  key_cache_ms: z.number().int().min(0).max(5000).default(500),
});
