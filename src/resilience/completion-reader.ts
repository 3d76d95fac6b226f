import type { Readable } from "node:stream";
import { z } from "zod";
import { errors } from "../errors.js";
import { DONE_DATA, SseDecoder, type SseEvent, usageSchema } from "../openai/index.js";
import {
  classifyTransportError,
  type FramingLimits,
  NodeFault,
  SseFramer,
  SseOverflow,
} from "../upstream/index.js";

const textChunkSchema = z.looseObject({
  choices: z.array(
    z.looseObject({
      text: z.string(),
      finish_reason: z.string().nullable().optional(),
    }),
  ),
  usage: usageSchema.nullable().optional(),
});

/** One `text_completion` chunk, reduced to what a chat relay needs. */
export interface TextPiece {
  readonly text: string;
  readonly finishReason: string | undefined;
  readonly promptTokens: number | undefined;
  readonly completionTokens: number | undefined;
}

/**
 * Reads a streamed `/v1/completions` body event by event. Anything the node got wrong (broken
 * connection, error event, a chunk that is not a text completion, an event or body over the
 * limits) throws a `NodeFault`; our own abort throws the signal's reason.
 */
export class CompletionReader {
  private readonly framer: SseFramer;
  private readonly decoder = new SseDecoder();
  private readonly queued: string[] = [];
  private readonly chunks: AsyncIterator<Buffer>;
  private ended = false;

  constructor(
    private readonly body: Readable,
    private readonly nodeId: string,
    private readonly signal: AbortSignal,
    limits: FramingLimits,
  ) {
    this.chunks = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    this.framer = new SseFramer(limits);
  }

  /** The next piece; "done" at `[DONE]`, undefined when the body ended without it. */
  async next(): Promise<TextPiece | "done" | undefined> {
    for (;;) {
      const data = this.queued.shift();
      if (data !== undefined) return data === DONE_DATA ? "done" : this.parse(data);
      if (this.ended) return undefined;
      await this.fill();
    }
  }

  destroy(): void {
    this.body.destroy();
  }

  private async fill(): Promise<void> {
    let next: IteratorResult<Buffer>;
    try {
      next = await this.chunks.next();
    } catch (err) {
      throw classifyTransportError(this.nodeId, err, this.signal);
    }
    if (next.done) {
      this.ended = true;
      const rest = this.framer.rest;
      if (rest) this.decoder.push(rest);
      this.queue(this.decoder.flush());
      return;
    }
    // Only whole events reach the decoder, so a node that never ends one costs no re-scans.
    const framed = this.framer.push(next.value);
    if (framed instanceof SseOverflow) throw this.malformed(framed.detail);
    if (framed) this.queue(this.decoder.push(framed));
  }

  private queue(events: readonly SseEvent[]): void {
    for (const event of events) this.queued.push(event.data);
  }

  private parse(data: string): TextPiece {
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      throw this.malformed("a stream event is not JSON");
    }
    if (typeof payload === "object" && payload !== null && "error" in payload) {
      const message = z.looseObject({ message: z.string() }).safeParse(payload.error);
      const detail = message.success ? message.data.message : "error event";
      throw new NodeFault(this.nodeId, errors.streamInterrupted(this.nodeId, detail));
    }
    const parsed = textChunkSchema.safeParse(payload);
    if (!parsed.success) throw this.malformed("a stream event is not a text completion chunk");
    const choice = parsed.data.choices[0];
    const usage = parsed.data.usage ?? undefined;
    return {
      text: choice?.text ?? "",
      finishReason: choice?.finish_reason ?? undefined,
      promptTokens: usage?.prompt_tokens,
      completionTokens: usage?.completion_tokens,
    };
  }

  private malformed(detail: string): NodeFault {
    return new NodeFault(this.nodeId, errors.upstreamMalformed(this.nodeId, detail));
  }
}
