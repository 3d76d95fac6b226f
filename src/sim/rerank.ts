import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { SimContext } from "./context.js";
import { Exchange } from "./exchange.js";
import { embed } from "./generation.js";
import {
  isRecord,
  LlamaError,
  llamaErrors,
  readJson,
  refusedUnsupported,
  sendError,
  sendJson,
} from "./wire.js";

/**
 * POST /v1/rerank (and /rerank, /reranking, /v1/reranking): llama-server's Jina/Cohere shape,
 * `results` sorted by `relevance_score`, cut to `top_n`. The score is the cosine of the sim's
 * embeddings of query and document, so it is stable and higher for shared words. Evaluation takes
 * prefill time for every (query, document) pair, as a reranking model's would.
 */
export async function handleRerank(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (refusedUnsupported(ctx.options.embeddings, res, "reranking", "--reranking")) return;
  const exchange = new Exchange(ctx, res);
  try {
    const body = await readJson(req);
    if (!isRecord(body) || typeof body.query !== "string")
      throw llamaErrors.invalidRequest('"query" must be provided');
    const documents = Array.isArray(body.documents) ? body.documents : body.texts;
    if (!Array.isArray(documents) || documents.length === 0) {
      throw llamaErrors.invalidRequest('"documents" must be a non-empty string array');
    }
    const query = ctx.tokenizer.tokenize(body.query);
    const queryVector = embed(query);
    const scored = documents.map((document: unknown, index) => {
      const ids = ctx.tokenizer.tokenize(documentText(document));
      const vector = embed(ids);
      const score = vector.reduce((sum, value, d) => sum + value * (queryVector[d] ?? 0), 0);
      return { index, relevance_score: score, tokens: query.length + ids.length };
    });
    const tokens = scored.reduce((sum, result) => sum + result.tokens, 0);
    await sleep(ctx.options.ttftMs + (tokens * 1000) / ctx.options.prefillTokensPerSecond, undefined, {
      signal: exchange.signal,
    });
    const topN = Number.isInteger(body.top_n) ? (body.top_n as number) : scored.length;
    const results = scored
      .sort((a, b) => b.relevance_score - a.relevance_score)
      .slice(0, topN)
      .map(({ index, relevance_score }) => ({ index, relevance_score }));
    sendJson(res, 200, {
      model: typeof body.model === "string" ? body.model : ctx.options.model,
      object: "list",
      usage: { prompt_tokens: tokens, total_tokens: tokens },
      results,
    });
  } catch (err) {
    if (exchange.signal.aborted) return;
    sendError(res, err instanceof LlamaError ? err : llamaErrors.server(String(err)));
  }
}

function documentText(document: unknown): string {
  if (typeof document === "string") return document;
  if (isRecord(document) && typeof document.text === "string") return document.text;
  throw llamaErrors.invalidRequest('"documents" must be strings or objects with "text"');
}
