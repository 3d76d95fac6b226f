import { createHash } from "node:crypto";

/** Deeper bodies are not cached: walking them would cost a stack per level, and no real request nests so. */
const MAX_DEPTH = 64;

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
 * in one Redis Cluster slot. Undefined for a body nested deeper than any real request.
 */
export function cacheKey(parts: KeyParts): string | undefined {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([parts.tenant, parts.kind, parts.model]));
  hash.update("\n");
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parts.body)) {
    if (!DELIVERY_FIELDS.has(name) && value !== undefined) fields[name] = value;
  }
  const text = canonicalJson(fields);
  if (text === undefined) return undefined;
  hash.update(text);
  return `cache:{${parts.tenant}}:${hash.digest("base64url")}`;
}

/** JSON with object keys sorted at every depth: equal values give equal text; undefined past MAX_DEPTH. */
export function canonicalJson(value: unknown, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  const parts: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = canonicalJson(item ?? null, depth + 1);
      if (text === undefined) return undefined;
      parts.push(text);
    }
    return `[${parts.join(",")}]`;
  }
  const entries = Object.entries(value)
    .filter(([, field]) => field !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, field] of entries) {
    const text = canonicalJson(field, depth + 1);
    if (text === undefined) return undefined;
    parts.push(`${JSON.stringify(name)}:${text}`);
  }
  return `{${parts.join(",")}}`;
}
