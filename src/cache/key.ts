import { createHash } from "node:crypto";

/** Fields that change how an answer is delivered or attributed, never what it says. */
const DELIVERY_FIELDS = new Set(["stream", "stream_options", "user", "model"]);

export interface KeyParts {
  readonly tenant: string;
  readonly kind: "chat" | "completions";
  /** The model as the call resolved it (aliases resolved), not as the body spells it. */
  readonly model: string;
  /** The request body as the client sent it (validated). */
  readonly body: Readonly<Record<string, unknown>>;
}

/**
 * The entry's key: a hash over the tenant, the endpoint, the model and every other field of the body
 * in canonical JSON (sorted keys), so sampling settings, seed, stop, max_tokens, tools, tool_choice,
 * response_format, logit_bias, n and llama.cpp's extras all count, whatever their order. The tenant
 * is also the key's hash tag: one tenant's entries can never be found under another's key, and sit
 * in one Redis Cluster slot.
 */
export function cacheKey(parts: KeyParts): string {
  const hash = createHash("sha256");
  hash.update(canonicalJson([parts.tenant, parts.kind, parts.model]));
  hash.update("\n");
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parts.body)) {
    if (!DELIVERY_FIELDS.has(name) && value !== undefined) fields[name] = value;
  }
  hash.update(canonicalJson(fields));
  return `cache:{${parts.tenant}}:${hash.digest("base64url")}`;
}

/** JSON with object keys sorted at every depth: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, field]) => `${JSON.stringify(name)}:${canonicalJson(field)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
