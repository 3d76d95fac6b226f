/**
 * Structural comparison of two JSON values: key sets and value types, recursively, never values.
 * Used to hold the simulated node to what a real llama-server sends.
 */

/** Paths use `.key` for object members and `[]` for any array element: `data[].meta.n_ctx`. */
export function shapeDiff(
  real: unknown,
  sim: unknown,
  options: { mayOmit?: readonly string[] } = {},
): string[] {
  const out: string[] = [];
  compare(real, sim, "", new Set(options.mayOmit ?? []), out);
  return out;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function compare(real: unknown, sim: unknown, path: string, mayOmit: Set<string>, out: string[]): void {
  const [rt, st] = [typeOf(real), typeOf(sim)];
  if (rt !== st) {
    out.push(`${path || "(root)"}: real is ${rt}, sim is ${st}`);
    return;
  }
  if (rt === "array") {
    const [ra, sa] = [real as unknown[], sim as unknown[]];
    // Element shapes: the first of each side stands for all (llama's arrays are homogeneous).
    if (ra.length > 0 && sa.length > 0) compare(ra[0], sa[0], `${path}[]`, mayOmit, out);
    else if (ra.length !== sa.length) out.push(`${path}: real has ${ra.length} elements, sim ${sa.length}`);
    return;
  }
  if (rt !== "object") return;
  const [ro, so] = [real as Record<string, unknown>, sim as Record<string, unknown>];
  for (const key of Object.keys(ro)) {
    const child = `${path}.${key}`;
    if (!(key in so)) {
      if (!mayOmit.has(child) && !mayOmit.has(`${path}.*`)) out.push(`${child}: missing in sim`);
    } else compare(ro[key], so[key], child, mayOmit, out);
  }
  for (const key of Object.keys(so)) if (!(key in ro)) out.push(`${path}.${key}: only in sim`);
}

/** What a chat stream is made of, in order, with runs of content chunks folded into one `content+`. */
export function chunkKinds(chunks: readonly unknown[]): string[] {
  const kinds: string[] = [];
  for (const chunk of chunks) {
    const kind = chunkKind(chunk);
    if (kind === "content" && kinds.at(-1)?.startsWith("content")) kinds[kinds.length - 1] = "content+";
    else kinds.push(kind);
  }
  return kinds;
}

function chunkKind(chunk: unknown): string {
  const c = chunk as {
    error?: unknown;
    usage?: unknown;
    choices?: { delta?: { role?: string }; finish_reason?: string | null }[];
  };
  if (c.error !== undefined) return "error";
  const choice = c.choices?.[0];
  if (!choice) return c.usage ? "usage" : "empty";
  if (choice.finish_reason) return c.usage ? "finish+usage" : "finish";
  if (choice.delta?.role) return "role";
  return "content";
}
