import type { ServerResponse } from "node:http";
import { BUILD_INFO, type SimContext } from "./context.js";
import type { Slot } from "./slots.js";
import { CHAT_TEMPLATE } from "./template.js";
import { llamaErrors, sendError, sendJson, sendText } from "./wire.js";

/** The read-only endpoints a gateway probes: /health, /v1/models, /props, /slots, /metrics. */

const MODEL_CREATED = Math.floor(Date.now() / 1000);
const TINY_MODEL_META = { vocab_type: 1, n_vocab: 32000, n_embd: 64, n_params: 1_048_576, size: 17_000_000 };

export function handleHealth(ctx: SimContext, res: ServerResponse): void {
  if (ctx.isFlappedDown()) sendError(res, llamaErrors.loading());
  else sendJson(res, 200, { status: "ok" });
}

export function handleModels(ctx: SimContext, res: ServerResponse): void {
  const { model, nCtx } = ctx.options;
  sendJson(res, 200, {
    models: [
      { name: model, model, type: "model", capabilities: ["completion"], details: { format: "gguf" } },
    ],
    object: "list",
    data: [
      {
        id: model,
        object: "model",
        created: MODEL_CREATED,
        owned_by: "llamacpp",
        meta: { ...TINY_MODEL_META, n_ctx_train: nCtx },
      },
    ],
  });
}

export function handleProps(ctx: SimContext, res: ServerResponse): void {
  const { model, nCtx, slots, seed } = ctx.options;
  sendJson(res, 200, {
    default_generation_settings: { n_ctx: nCtx, params: samplingParams(-1, seed, false) },
    total_slots: slots,
    model_alias: model,
    model_path: `/models/${model}.gguf`,
    modalities: { vision: false, audio: false },
    chat_template: CHAT_TEMPLATE,
    bos_token: "<s>",
    eos_token: "</s>",
    build_info: BUILD_INFO,
  });
}

export function handleSlots(ctx: SimContext, res: ServerResponse, url: URL): void {
  const { pool, options } = ctx;
  if (url.searchParams.get("fail_on_no_slot") === "1" && pool.busy === pool.slots.length) {
    sendError(res, llamaErrors.noSlot());
    return;
  }
  sendJson(
    res,
    200,
    pool.slots.map((slot) => slotJson(slot, options.nCtx, options.seed)),
  );
}

function slotJson(slot: Slot, nCtx: number, defaultSeed: number): Record<string, unknown> {
  const task = slot.task;
  const nRemain = task === null || task.nPredict < 0 ? -1 : task.nPredict - task.nDecoded;
  return {
    id: slot.id,
    id_task: task?.idTask ?? -1,
    n_ctx: nCtx,
    speculative: false,
    is_processing: task !== null,
    params: samplingParams(task?.nPredict ?? -1, task?.seed ?? defaultSeed, task?.stream ?? false),
    next_token: {
      has_next_token: task !== null,
      has_new_line: false,
      n_remain: nRemain,
      n_decoded: task?.nDecoded ?? 0,
      stopping_word: "",
    },
  };
}

function samplingParams(nPredict: number, seed: number, stream: boolean): Record<string, unknown> {
  return {
    n_predict: nPredict,
    seed,
    temperature: 0.8,
    top_k: 40,
    top_p: 0.95,
    min_p: 0.05,
    n_keep: 0,
    n_discard: 0,
    ignore_eos: false,
    stream,
    stop: [],
    cache_prompt: true,
  };
}

export function handleMetrics(ctx: SimContext, res: ServerResponse): void {
  const text = ctx.metrics.render({ processing: ctx.pool.busy, deferred: ctx.pool.deferred });
  sendText(res, 200, "text/plain; version=0.0.4", text);
}
