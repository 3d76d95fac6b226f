import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { SimContext } from "./context.js";
import { Exchange } from "./exchange.js";
import { embed } from "./generation.js";
import { parseMessages } from "./request.js";
import { renderChat } from "./template.js";
import {
  isRecord,
  LlamaError,
  llamaErrors,
  readJson,
  refusedUnsupported,
  sendError,
  sendJson,
} from "./wire.js";

/** /tokenize, /detokenize, /apply-template and /v1/embeddings: the node's non-generating endpoints. */

async function readObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJson(req);
  if (!isRecord(body)) throw llamaErrors.invalidRequest("Request body must be a JSON object");
  return body;
}

export async function handleTokenize(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readObject(req);
  const content = typeof body.content === "string" ? body.content : "";
  const tokens =
    body.with_pieces === true ? ctx.tokenizer.tokenizeWithPieces(content) : ctx.tokenizer.tokenize(content);
  sendJson(res, 200, { tokens });
}

export async function handleDetokenize(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readObject(req);
  const tokens = Array.isArray(body.tokens)
    ? body.tokens.filter((id): id is number => Number.isInteger(id))
    : [];
  sendJson(res, 200, { content: ctx.tokenizer.detokenize(tokens) });
}

export async function handleApplyTemplate(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readObject(req);
  sendJson(res, 200, { prompt: renderChat(parseMessages(body.messages)) });
}

/** Embeddings take prompt-evaluation time like a prefill, and honour the hang, slow and malformed faults. */
export async function handleEmbeddings(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (refusedUnsupported(ctx.options.embeddings, res, "embeddings", "--embeddings")) return;
  const faults = { ...ctx.faults };
  const exchange = new Exchange(ctx, res);
  try {
    const body = await readObject(req);
    const inputs = embeddingInputs(ctx, body.input ?? body.content);
    if (faults.hangBeforeHeaders) return await exchange.stall();
    const promptTokens = inputs.reduce((sum, ids) => sum + ids.length, 0);
    const delayMs = ctx.options.ttftMs + (promptTokens * 1000) / ctx.options.prefillTokensPerSecond;
    await sleep(delayMs, undefined, { signal: exchange.signal });
    const body200 = {
      model: ctx.options.model,
      object: "list",
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      data: inputs.map((ids, index) => ({
        embedding: encode(embed(ids), body.encoding_format),
        index,
        object: "embedding",
      })),
    };
    sendJson(res, 200, body200, {
      bytesPerSecond: faults.slowBytesPerSecond,
      malformed: faults.malformedOutput,
    });
  } catch (err) {
    if (exchange.signal.aborted) return;
    sendError(res, err instanceof LlamaError ? err : llamaErrors.server(String(err)));
  }
}

function embeddingInputs(ctx: SimContext, input: unknown): number[][] {
  const one = (item: unknown): number[] | undefined => {
    if (typeof item === "string") return ctx.tokenizer.tokenize(item);
    if (Array.isArray(item) && item.length > 0 && item.every((id) => Number.isInteger(id)))
      return item as number[];
    return undefined;
  };
  const single = one(input);
  if (single) return [single];
  if (Array.isArray(input) && input.length > 0) {
    const many = input.map(one);
    if (many.every((ids): ids is number[] => ids !== undefined)) return many;
  }
  throw llamaErrors.invalidRequest(
    '"input" must be a string, an array of strings or an array of token arrays',
  );
}

function encode(vector: number[], format: unknown): number[] | string {
  if (format !== "base64") return vector;
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}
