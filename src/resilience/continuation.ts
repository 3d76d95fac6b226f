import { z } from "zod";
import { errors, type GatewayError } from "../errors.js";
import { type ChatMessage, DONE_EVENT, encodeData, errorEvent, parseNodeError } from "../openai/index.js";
import {
  ERROR_BODY_LIMIT_BYTES,
  NodeFault,
  readBody,
  sendToNode,
  type UpstreamPools,
  type UpstreamResponse,
  type UpstreamTarget,
} from "../upstream/index.js";
import { CompletionReader, type TextPiece } from "./completion-reader.js";
import type { ChunkBase } from "./transcript.js";

export interface ContinuationInput {
  readonly pools: UpstreamPools;
  /** The node to continue on: not the one that died. */
  readonly target: UpstreamTarget;
  readonly messages: readonly ChatMessage[];
  /** The assistant text the client already has. */
  readonly sentText: string;
  /** Tokens already sent (content chunks counted by the transcript). */
  readonly sentTokens: number;
  /** The original prompt's tokens, when the gateway knows them. */
  readonly promptTokens?: number | undefined;
  readonly chunkBase: ChunkBase;
  /** The client's max_tokens for the whole answer. */
  readonly maxTokens: number | undefined;
  /** temperature, top_p, seed, stop...: passed to the node as they are. */
  readonly samplingParams: Readonly<Record<string, unknown>>;
  readonly includeUsage: boolean;
  readonly signal: AbortSignal;
  readonly requestId?: string | undefined;
  readonly traceparent?: string | undefined;
}

/** What the continuation came to, readable once its events have been consumed. */
export interface ContinuationOutcome {
  /** Set when the continuation node failed after its first token (the stream ended with an error event). */
  failure: NodeFault | undefined;
  finishReason: string | undefined;
  /** Tokens the continuation node generated. */
  completionTokens: number;
  /** The whole answer's usage, charged once: the original prompt and every token the client got. */
  usage: ContinuedUsage | undefined;
}

export interface ContinuedUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export type ContinuationStream = AsyncIterable<string> & { readonly outcome: ContinuationOutcome };

const TEMPLATE_LIMIT_BYTES = 16 * 1024 * 1024;
/** Request fields the continuation itself decides; a client's value for them must not leak through. */
const OWN_FIELDS = new Set([
  "messages",
  "prompt",
  "stream",
  "stream_options",
  "max_tokens",
  "max_completion_tokens",
  "n_predict",
  "model",
]);

const templateSchema = z.looseObject({ prompt: z.string() });

/**
 * Continues a chat answer that broke off mid-stream on another node: renders the conversation with
 * that node's chat template, appends the text the client already has, and asks for the rest as a
 * raw completion, relayed as chat chunks under the broken stream's id so that the client sees one
 * answer. Resolves once the node has produced its first token (or finished); fails before that with
 * the node's error, so the caller can try another node. A failure after it ends the events with a
 * `stream_interrupted` error event and no `[DONE]`.
 */
export async function continueChatStream(input: ContinuationInput): Promise<ContinuationStream> {
  const remaining = input.maxTokens === undefined ? undefined : input.maxTokens - input.sentTokens;
  if (remaining !== undefined && remaining <= 0) {
    return stream(input, [
      { text: "", finishReason: "length", promptTokens: undefined, completionTokens: 0 },
    ]);
  }
  const template = await postJson(input, "/apply-template", { messages: input.messages });
  const rendered = templateSchema.safeParse(await readJson(input, template, TEMPLATE_LIMIT_BYTES));
  if (!rendered.success) throw malformed(input, "/apply-template answered without a prompt");
  const response = await postJson(
    input,
    "/v1/completions",
    completionBody(input, rendered.data.prompt, remaining),
  );
  const reader = new CompletionReader(response.body, input.target.id, input.signal, input.pools.limits);
  try {
    return stream(input, await readHead(reader, input), reader);
  } catch (err) {
    reader.destroy();
    throw err;
  }
}

function completionBody(input: ContinuationInput, prompt: string, remaining: number | undefined) {
  const sampling = Object.fromEntries(
    Object.entries(input.samplingParams).filter(([key]) => !OWN_FIELDS.has(key)),
  );
  return {
    ...sampling,
    model: input.chunkBase.model,
    prompt: prompt + input.sentText,
    stream: true,
    stream_options: { include_usage: true },
    ...(remaining === undefined ? {} : { max_tokens: remaining }),
  };
}

/** Reads up to the first token, or the finish when the node has nothing more to say. */
async function readHead(reader: CompletionReader, input: ContinuationInput): Promise<TextPiece[]> {
  const head: TextPiece[] = [];
  for (;;) {
    const piece = await reader.next();
    if (piece === undefined || piece === "done") {
      throw new NodeFault(
        input.target.id,
        errors.streamInterrupted(input.target.id, "the continuation ended before its first token"),
      );
    }
    head.push(piece);
    if (piece.text !== "" || piece.finishReason !== undefined) return head;
  }
}

function stream(input: ContinuationInput, head: TextPiece[], reader?: CompletionReader): ContinuationStream {
  const outcome: ContinuationOutcome = {
    failure: undefined,
    finishReason: undefined,
    completionTokens: 0,
    usage: undefined,
  };
  return { outcome, [Symbol.asyncIterator]: () => relay(input, head, reader, outcome) };
}

async function* relay(
  input: ContinuationInput,
  head: TextPiece[],
  reader: CompletionReader | undefined,
  outcome: ContinuationOutcome,
): AsyncGenerator<string> {
  const nodeId = input.target.id;
  let counted = 0;
  let reported: { prompt?: number | undefined; completion?: number | undefined } = {};
  const nextPiece = async () => head.shift() ?? (await reader?.next());
  try {
    let piece = await nextPiece();
    while (piece && piece !== "done") {
      if (piece.text !== "") {
        counted += 1;
        yield chunk(input.chunkBase, [{ index: 0, delta: { content: piece.text }, finish_reason: null }]);
      }
      outcome.finishReason = piece.finishReason ?? outcome.finishReason;
      if (piece.completionTokens !== undefined)
        reported = { prompt: piece.promptTokens, completion: piece.completionTokens };
      piece = await nextPiece();
    }
    if (outcome.finishReason === undefined) {
      throw new NodeFault(
        nodeId,
        errors.streamInterrupted(nodeId, "the node closed the stream without finishing"),
      );
    }
  } catch (err) {
    if (input.signal.aborted) return;
    outcome.failure =
      err instanceof NodeFault ? err : new NodeFault(nodeId, errors.streamInterrupted(nodeId, String(err)));
    yield errorEvent(errors.streamInterrupted(nodeId, outcome.failure.message));
    return;
  } finally {
    reader?.destroy();
    outcome.usage = continuedUsage(
      input,
      reported.prompt,
      outcome.failure ? counted : (reported.completion ?? counted),
    );
  }
  outcome.completionTokens = reported.completion ?? counted;
  yield chunk(input.chunkBase, [{ index: 0, delta: {}, finish_reason: outcome.finishReason }]);
  if (input.includeUsage && outcome.usage) yield usageChunk(input.chunkBase, outcome.usage);
  yield DONE_EVENT;
}

function chunk(base: ChunkBase, choices: unknown[], extra: Record<string, unknown> = {}): string {
  return encodeData(
    JSON.stringify({
      id: base.id,
      object: "chat.completion.chunk",
      created: base.created,
      model: base.model,
      ...(base.system_fingerprint === undefined ? {} : { system_fingerprint: base.system_fingerprint }),
      choices,
      ...extra,
    }),
  );
}

/**
 * The continuation's own prompt held the text already sent, so without the original count the
 * prompt is its prompt less those tokens.
 */
function continuedUsage(
  input: ContinuationInput,
  continuationPrompt: number | undefined,
  generated: number,
): ContinuedUsage {
  return {
    promptTokens: input.promptTokens ?? Math.max(0, (continuationPrompt ?? 0) - input.sentTokens),
    completionTokens: input.sentTokens + generated,
  };
}

function usageChunk(base: ChunkBase, usage: ContinuedUsage): string {
  const { promptTokens: prompt, completionTokens: completion } = usage;
  return chunk(base, [], {
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  });
}

async function postJson(input: ContinuationInput, path: string, body: unknown): Promise<UpstreamResponse> {
  const response = await sendToNode(input.pools, input.target, {
    method: "POST",
    path,
    body: JSON.stringify(body),
    requestId: input.requestId,
    traceparent: input.traceparent,
    signal: input.signal,
  });
  if (response.status < 400) return response;
  const text = (
    await readBody(response.body, ERROR_BODY_LIMIT_BYTES).catch(() => Buffer.alloc(0))
  ).toString();
  throw statusError(input.target.id, path, response.status, text);
}

async function readJson(
  input: ContinuationInput,
  response: UpstreamResponse,
  limit: number,
): Promise<unknown> {
  let raw: Buffer;
  try {
    raw = await readBody(response.body, limit);
  } catch (err) {
    if (input.signal.aborted) throw input.signal.reason;
    throw malformed(input, `reading ${(err as Error).message}`);
  }
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw malformed(input, "a body that is not JSON");
  }
}

/** 5xx is the node's fault; a 4xx (e.g. the context is now too long) is not, and no node would differ. */
function statusError(nodeId: string, path: string, status: number, text: string): GatewayError {
  const detail = parseNodeError(text)?.message ?? text.slice(0, 300);
  const message = `Node '${nodeId}' answered ${path} with HTTP ${status}: ${detail}`;
  if (status >= 500) return new NodeFault(nodeId, errors.upstreamError(message));
  return errors.continuationRejected(message);
}

function malformed(input: ContinuationInput, detail: string): NodeFault {
  return new NodeFault(input.target.id, errors.upstreamMalformed(input.target.id, detail));
}
