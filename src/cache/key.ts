import { hash } from "node:crypto";

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
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parts.body)) {
    if (!DELIVERY_FIELDS.has(name)) fields[name] = value;
  }
  const text = canonicalJson(fields);
  if (text === undefined) return undefined;
  const digest = hash(
    "sha256",
    `${JSON.stringify([parts.tenant, parts.kind, parts.model])}\n${text}`,
    "base64url",
  );
  return `cache:{${parts.tenant}}:${digest}`;
}

/** JSON with object keys sorted at every depth: equal values give equal text; undefined past MAX_DEPTH. */
export function canonicalJson(value: unknown, depth = 0): string | undefined {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (depth >= MAX_DEPTH) return undefined;
  let out: string;
  if (Array.isArray(value)) {
    out = "[";
    for (let i = 0; i < value.length; i++) {
      const text = canonicalJson(value[i] ?? null, depth + 1);
      if (text === undefined) return undefined;
      out += i === 0 ? text : `,${text}`;
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  out = "{";
  for (const name of Object.keys(record).sort()) {
    const field = record[name];
    if (field === undefined) continue;
    const text = canonicalJson(field, depth + 1);
    if (text === undefined) return undefined;
    out += `${out.length === 1 ? "" : ","}${JSON.stringify(name)}:${text}`;
  }
  return `${out}}`;
}
