import { z } from "zod";
import { healthVerdict, namesOf, parseModelCards } from "./llama-probes.js";
import type { ProbeResponse, ProbeTransport } from "./prober.js";
import type { NodeRecord } from "./types.js";

/** What /props says about a node: the facts a re-verification compares. */
export interface NodeProps {
  readonly n_ctx?: number | undefined;
  readonly total_slots?: number | undefined;
  readonly model_alias?: string | undefined;
  readonly model_path?: string | undefined;
}

export type Verdict =
  | { readonly ok: true; readonly models: readonly string[]; readonly props: NodeProps }
  | { readonly ok: false; readonly reason: string };

const propsSchema = z.looseObject({
  total_slots: z.number().int().min(1),
  model_alias: z.string().optional(),
  model_path: z.string().optional(),
  n_ctx: z.number().int().optional(),
  default_generation_settings: z.looseObject({ n_ctx: z.number().int().optional() }).optional(),
});

const canarySchema = z.looseObject({
  choices: z.array(z.looseObject({ text: z.string() })).min(1),
  usage: z.looseObject({ completion_tokens: z.number().int().min(1) }).optional(),
});

/** The canary: greedy and seeded, so a healthy node answers it the same way every time, quickly. */
export function canaryRequest(model: string): string {
  return JSON.stringify({
    model,
    prompt: "1, 2, 3,",
    max_tokens: 2,
    temperature: 0,
    seed: 42,
    stream: false,
  });
}

/** Reads /props into the facts kept for comparison; undefined when the answer is not llama-server's. */
export function parseNodeProps(body: string): NodeProps | undefined {
  const parsed = propsSchema.safeParse(safeJson(body));
  if (!parsed.success) return undefined;
  const props = parsed.data;
  return {
    n_ctx: props.default_generation_settings?.n_ctx ?? props.n_ctx,
    total_slots: props.total_slots,
    model_alias: props.model_alias,
    model_path: props.model_path,
  };
}

/** Equal props mean the node still runs what was verified. */
export function sameProps(a: NodeProps | undefined, b: NodeProps | undefined): boolean {
  return (
    a?.n_ctx === b?.n_ctx &&
    a?.total_slots === b?.total_slots &&
    a?.model_alias === b?.model_alias &&
    a?.model_path === b?.model_path
  );
}

/**
 * Verification before traffic: the node is reachable, healthy, serves every model it claims, has
 * readable /props, and completes a small canary. Each failure is a reason an operator can act on.
 */
export async function verifyNode(
  transport: ProbeTransport,
  node: NodeRecord,
  claimed: readonly string[] | undefined,
  timeoutMs: number,
): Promise<Verdict> {
  const fail = (reason: string): Verdict => ({ ok: false, reason });
  const call = (path: string, body?: string) =>
    (body === undefined
      ? transport.get(node, path, timeoutMs)
      : transport.post(node, path, body, timeoutMs)
    ).catch((err: Error) => err);
  const health = await call("/health");
  if (health instanceof Error) return fail(`unreachable: ${causeOf(health)}`);
  const verdict = healthVerdict(health.status, health.body);
  if (verdict === "loading") return fail("still loading its model");
  if (verdict === "failed") return fail(`/health answered ${describe(health)}`);
  const listing = await call("/v1/models");
  const cards =
    listing instanceof Error || listing.status !== 200 ? undefined : parseModelCards(listing.body);
  const models = cards && namesOf(cards);
  if (!models || models.length === 0) return fail("/v1/models lists no model");
  const missing = claimed?.filter((model) => !models.includes(model)) ?? [];
  if (missing.length > 0) {
    return fail(
      `claims ${missing.map((m) => `'${m}'`).join(", ")} but /v1/models lists only ${models.join(", ")}`,
    );
  }
  const propsAnswer = await call("/props");
  const props =
    propsAnswer instanceof Error || propsAnswer.status !== 200 ? undefined : parseNodeProps(propsAnswer.body);
  if (!props) return fail("/props is unreadable (not a llama-server?)");
  const served = claimed ?? models;
  const canary = await call("/v1/completions", canaryRequest(served[0]!));
  if (canary instanceof Error) return fail(`canary completion failed: ${causeOf(canary)}`);
  if (canary.status !== 200) return fail(`canary completion answered ${describe(canary)}`);
  if (!canarySchema.safeParse(safeJson(canary.body)).success) return fail("canary completion is malformed");
  return { ok: true, models: served, props };
}

/** Transport errors wrap what happened (a refused address, a reset) as their cause. */
function causeOf(err: Error): string {
  return err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message;
}

function describe(response: ProbeResponse): string {
  return `HTTP ${response.status}: ${response.body.slice(0, 200)}`;
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
