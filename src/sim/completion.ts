import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { DONE_EVENT, encodeData } from "../openai/sse.js";
import {
  type GenerationKind,
  type PromptCount,
  type SseChunk,
  WIRE_FORMATS,
  type WireFormat,
} from "./api-formats.js";
import type { SimContext } from "./context.js";
import { Exchange } from "./exchange.js";
import { newMeta, type Outcome, type ResponseMeta } from "./format.js";
import { planGeneration } from "./generation.js";
import type { FaultConfig } from "./options.js";
import { type CompletionPlan, parseCompletion } from "./request.js";
import type { SlotTask } from "./slots.js";
import { toolCallFormat } from "./tool-call.js";
import { flood, LlamaError, llamaErrors, mangle, Outgoing, readJson, sendError, sendJson } from "./wire.js";

/** POST /v1/chat/completions, /v1/completions, /v1/responses, /v1/messages and /infill. */
export async function handleCompletion(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  kind: GenerationKind,
): Promise<void> {
  ctx.completionRequests += 1;
  ctx.lastRequestHeaders = { ...req.headers };
  // Faults apply as they were when the request arrived, so a run-time change never half-applies.
  const faults = { ...ctx.faults };
  const exchange = new Exchange(ctx, res);
  try {
    if (kind === "infill" && !ctx.options.infill) throw llamaErrors.noInfill();
    const plan = parseCompletion(kind, await readJson(req), ctx.tokenizer, ctx.options);
    if (plan.promptIds.length >= ctx.options.nCtx) {
      throw llamaErrors.exceedContext(plan.promptIds.length, ctx.options.nCtx);
    }
    if (faults.errorRate > 0 && ctx.random() < faults.errorRate) {
      throw llamaErrors.server("Simulated failure (sim error-rate fault)");
    }
    if (faults.hangBeforeHeaders) {
      await exchange.stall();
      return;
    }
    await serve(ctx, plan, faults, exchange);
  } catch (err) {
    if (exchange.signal.aborted) return;
    sendError(res, err instanceof LlamaError ? err : llamaErrors.server(String(err)));
  }
}

/** Waits for a slot, evaluates the uncached part of the prompt, then decodes token by token. */
async function serve(
  ctx: SimContext,
  plan: CompletionPlan,
  faults: FaultConfig,
  exchange: Exchange,
): Promise<void> {
  const { options, pool, metrics } = ctx;
  const limit = Math.min(plan.maxTokens ?? Number.POSITIVE_INFINITY, options.nCtx - plan.promptIds.length);
  const task: SlotTask = {
    idTask: ctx.nextTaskId(),
    nPredict: plan.maxTokens ?? -1,
    nDecoded: 0,
    nPromptTokens: plan.promptIds.length,
    nPromptTokensCache: 0,
    nPromptTokensProcessed: 0,
    stream: plan.stream,
    seed: plan.seed,
  };
  const lease = await pool.acquire(plan.promptIds, plan.cachePrompt, task, exchange.signal);
  let cached = plan.promptIds.slice(0, lease.cacheN);
  task.nPromptTokensCache = lease.cacheN;
  let decodeStart: number | undefined;
  try {
    const promptN = plan.promptIds.length - lease.cacheN;
    const prefillStart = performance.now();
    await sleep(options.ttftMs + (promptN * 1000) / options.prefillTokensPerSecond, undefined, {
      signal: exchange.signal,
    });
    const promptMs = performance.now() - prefillStart;
    metrics.recordPrompt(promptN, promptMs, lease.cacheN);
    task.nPromptTokensProcessed = promptN;
    cached = plan.promptIds;

    const generation = planGeneration(
      ctx.tokenizer,
      plan.promptIds,
      plan.seed,
      limit,
      plan.kind === "text" || plan.kind === "infill",
      plan.ignoreEos,
    );
    const prompt = { tokens: plan.promptIds.length, cached: lease.cacheN };
    const sink = new ResponseSink(plan, newMeta(options.model), prompt, faults, exchange);
    const interval = 1000 / options.tokensPerSecond;
    decodeStart = performance.now();
    for (const [i, piece] of generation.pieces.entries()) {
      if (i === faults.dieAfterTokens) return await sink.die();
      if (plan.stream && i === faults.endlessEvent?.afterTokens)
        return await sink.endlessEvent(faults.endlessEvent.bytes);
      if (i === faults.hangMidStreamAfterTokens) return await exchange.stall();
      const wait = decodeStart + (i + 1) * interval - performance.now();
      if (wait >= 1) await sleep(wait, undefined, { signal: exchange.signal });
      task.nDecoded = i + 1;
      ctx.tokensGenerated += 1;
      metrics.recordDecode(pool.busy);
      sink.token(piece);
    }
    await sink.finish({
      text: generation.pieces.join(""),
      finishReason: generation.finishReason,
      promptTokens: plan.promptIds.length,
      cacheN: lease.cacheN,
      promptMs,
      predictedN: generation.pieces.length,
      predictedMs: performance.now() - decodeStart,
    });
    cached = plan.promptIds.concat(generation.ids);
  } finally {
    if (decodeStart !== undefined) metrics.recordPredicted(task.nDecoded, performance.now() - decodeStart);
    metrics.recordSlotTokens(cached.length);
    lease.release(cached);
  }
}

const SSE_HEADERS = { "Content-Type": "text/event-stream", "X-Accel-Buffering": "no" };

/** Streams chunks as tokens come (headers go out with the first one), or sends one body at the end. */
class ResponseSink {
  private started = false;
  private readonly out: Outgoing;
  private readonly format: WireFormat;

  constructor(
    private readonly plan: CompletionPlan,
    private readonly meta: ResponseMeta,
    private readonly prompt: PromptCount,
    private readonly faults: FaultConfig,
    private readonly exchange: Exchange,
  ) {
    this.out = new Outgoing(exchange.res, faults.slowBytesPerSecond);
    this.format = plan.toolCall ? toolCallFormat(plan.toolCall) : WIRE_FORMATS[plan.kind];
  }

  token(piece: string): void {
    if (!this.plan.stream) return;
    this.start();
    for (const chunk of this.format.token(this.meta, piece)) this.send(chunk);
  }

  async finish(outcome: Outcome): Promise<void> {
    if (!this.plan.stream && this.faults.hugeBodyBytes !== null) {
      this.out.head(200, { "Content-Type": "application/json; charset=utf-8" });
      await flood(this.exchange.res, '{"x":"', this.faults.hugeBodyBytes, '"}');
      return;
    }
    if (!this.plan.stream) {
      sendJson(this.exchange.res, 200, this.format.whole(this.meta, outcome), {
        bytesPerSecond: this.faults.slowBytesPerSecond,
        malformed: this.faults.malformedOutput,
      });
      return;
    }
    this.start();
    for (const chunk of this.format.closing(this.meta, outcome, this.plan.includeUsage)) this.send(chunk);
    if (this.format.endsWithDone) this.out.write(DONE_EVENT);
    this.out.end();
  }

  /** The endless-event fault: the stream goes on (or starts, after no token), but its last event never ends. */
  async endlessEvent(bytes: number): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.out.head(200, SSE_HEADERS);
    }
    await this.out.flushed();
    await flood(this.exchange.res, 'data: {"x":"', bytes);
  }

  /** The die fault: everything sent so far reaches the client, then the connection drops. */
  async die(): Promise<void> {
    await this.out.flushed();
    this.exchange.destroy();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.out.head(200, SSE_HEADERS);
    for (const chunk of this.format.opening(this.meta, this.prompt)) this.send(chunk);
  }

  private send({ event, data }: SseChunk): void {
    const json = JSON.stringify(data);
    const encoded = encodeData(this.faults.malformedOutput ? mangle(json) : json);
    this.out.write(event === undefined ? encoded : `event: ${event}\n${encoded}`);
  }
}
