import { z } from "zod";
import { modelListSchema } from "../openai/index.js";
import type { ProbeVerdict } from "./health.js";
import type { CapacityReading } from "./node-entry.js";

/** Parsers for what llama-server's operational endpoints return; each tolerates extra fields. */

export function healthVerdict(status: number, body: string): ProbeVerdict {
  if (status === 200) return "ok";
  // llama-server answers 503 {"error":{"message":"Loading model"}} until the model is in memory.
  if (status === 503 && /loading model/i.test(body)) return "loading";
  return "failed";
}

/** One model as the node lists it: its names and llama-server's `meta` block. */
export interface ModelCard {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly meta: Readonly<Record<string, unknown>> | undefined;
}

export function parseModelCards(body: string): ModelCard[] | undefined {
  const parsed = modelListSchema.safeParse(safeJson(body));
  if (!parsed.success) return undefined;
  return parsed.data.data.map((model) => ({ id: model.id, aliases: model.aliases ?? [], meta: model.meta }));
}

/** Every name the node answers to, so a client using an alias is routed to it like one using the id. */
export function namesOf(cards: readonly ModelCard[]): string[] {
  return [...new Set(cards.flatMap((card) => [card.id, ...card.aliases]))];
}

const propsSchema = z.looseObject({ total_slots: z.number().int().min(1) });
const slotsSchema = z.array(z.looseObject({ is_processing: z.boolean() }));

export function parseProps(body: string): CapacityReading {
  const parsed = propsSchema.safeParse(safeJson(body));
  return parsed.success ? { slotsTotal: parsed.data.total_slots } : {};
}

/** No slot listed says nothing about capacity (a node hiding them, a router in front): unknown, not full. */
export function parseSlots(body: string): CapacityReading {
  const parsed = slotsSchema.safeParse(safeJson(body));
  if (!parsed.success || parsed.data.length === 0) return {};
  return {
    slotsTotal: parsed.data.length,
    slotsBusy: parsed.data.filter((slot) => slot.is_processing).length,
  };
}

/** Reads the two gauges routing needs from llama-server's Prometheus text. */
export function parseMetrics(body: string): CapacityReading {
  const value = (name: string) => {
    const match = new RegExp(`^llamacpp:${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)\\s*$`, "m").exec(body);
    const parsed = match ? Number(match[1]) : Number.NaN;
    return Number.isFinite(parsed) ? parsed : undefined;
  };
  return { slotsBusy: value("requests_processing"), deferred: value("requests_deferred") };
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
