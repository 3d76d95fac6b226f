import type { ServerResponse } from "node:http";
import { BUILD_INFO, type SimContext } from "./context.js";
import type { Slot } from "./slots.js";
import { CHAT_TEMPLATE } from "./template.js";
import { llamaErrors, sendError, sendJson, sendText } from "./wire.js";

/** The read-only endpoints a gateway probes: /health, /v1/models, /props, /slots, /metrics. */

const MODEL_CREATED = Math.floor(Date.now() / 1000);
const TINY_MODEL_META = { vocab_type: 1, n_vocab: 32000, n_embd: 64, n_params: 1_048_576, size: 17_000_000 };
const FTYPE = "all F32";

export function handleHealth(ctx: SimContext, res: ServerResponse): void {
  if (ctx.isFlappedDown()) sendError(res, llamaErrors.loading());
  else sendJson(res, 200, { status: "ok" });
}

export function handleModels(ctx: SimContext, res: ServerResponse): void {
  const { model, nCtx } = ctx.options;
  sendJson(res, 200, {
    // The Ollama-style list llama-server serves beside OpenAI's, mostly empty strings there too.
    models: [
      {
        name: model,
        model,
        modified_at: "",
        size: "",
        digest: "",
        type: "model",
        description: "",
        tags: [""],
        capabilities: ["completion"],
        parameters: "",
        details: {
          parent_model: "",
          format: "gguf",
          family: "",
          families: [""],
          parameter_size: "",
          quantization_level: "",
        },
      },
    ],
    object: "list",
    data: [
      {
        id: model,
        aliases: [model],
        tags: [],
        object: "model",
        created: MODEL_CREATED,
        owned_by: "llamacpp",
        meta: { ...TINY_MODEL_META, n_ctx: nCtx, n_ctx_train: nCtx, ftype: FTYPE },
      },
    ],
  });
}

export function handleProps(ctx: SimContext, res: ServerResponse): void {
  const { model, nCtx, slots, seed } = ctx.options;
  sendJson(res, 200, {
    default_generation_settings: { params: samplingParams(-1, seed, false), n_ctx: nCtx },
    total_slots: slots,
    model_alias: model,
    model_ftype: FTYPE,
    model_path: `/models/${model}.gguf`,
    modalities: { vision: false, video: false, audio: false },
    media_marker: "<__media__>",
    endpoint_slots: true,
    endpoint_props: false,
    endpoint_metrics: true,
    ui: false,
    ui_settings: {},
    chat_template: CHAT_TEMPLATE,
    chat_template_caps: CHAT_TEMPLATE_CAPS,
    bos_token: "<s>",
    eos_token: "</s>",
    build_info: BUILD_INFO,
    is_sleeping: false,
    cors_proxy_enabled: false,
  });
}

export function handleSlots(ctx: SimContext, res: ServerResponse, url: URL): void {
  const { pool, options } = ctx;
  if (url.searchParams.get("fail_on_no_slot") === "1" && pool.busy === pool.slots.length) {
    sendError(res, llamaErrors.noSlot());
    return;
  }
  sendJson(res, 200, ctx.faults.zeroSlots ? [] : pool.slots.map((slot) => slotJson(slot, options.nCtx)));
}

/** An idle slot shows only its identity; a busy one adds its task, prompt progress and sampling. */
function slotJson(slot: Slot, nCtx: number): Record<string, unknown> {
  const task = slot.task;
  const idle = { id: slot.id, n_ctx: nCtx, speculative: false, is_processing: task !== null };
  if (task === null) return idle;
  return {
    ...idle,
    id_task: task.idTask,
    n_prompt_tokens: task.nPromptTokens,
    n_prompt_tokens_processed: task.nPromptTokensProcessed,
    n_prompt_tokens_cache: task.nPromptTokensCache,
    params: samplingParams(task.nPredict, task.seed, task.stream),
    next_token: [
      {
        has_next_token: true,
        has_new_line: false,
        n_remain: task.nPredict < 0 ? -1 : task.nPredict - task.nDecoded,
        n_decoded: task.nDecoded,
      },
    ],
  };
}

/** What the tiny model's simple template can do, as llama-server reports it. */
const CHAT_TEMPLATE_CAPS = {
  supports_object_arguments: false,
  supports_parallel_tool_calls: false,
  supports_preserve_reasoning: false,
  supports_reasoning_effort: false,
  supports_string_content: true,
  supports_system_role: true,
  supports_tool_calls: false,
  supports_tools: false,
  supports_typed_content: false,
};

function samplingParams(nPredict: number, seed: number, stream: boolean): Record<string, unknown> {
  return {
    seed,
    temperature: 0.8,
    top_k: 40,
    top_p: 0.95,
    min_p: 0.05,
    max_tokens: nPredict,
    n_predict: nPredict,
    n_keep: 0,
    n_discard: 0,
    ignore_eos: false,
    stream,
  };
}

export function handleMetrics(ctx: SimContext, res: ServerResponse): void {
  const text = ctx.metrics.render({ processing: ctx.pool.busy, deferred: ctx.pool.deferred });
  sendText(res, 200, "text/plain; version=0.0.4", text);
}
