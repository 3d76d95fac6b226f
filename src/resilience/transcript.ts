import { z } from "zod";
import { DONE_DATA, SseDecoder, type SseEvent } from "../openai/index.js";

/** The envelope every chunk of one chat stream shares; a continuation must repeat it exactly. */
export interface ChunkBase {
  readonly id: string;
  readonly model: string;
  readonly created: number;
  readonly system_fingerprint?: string | undefined;
}

const chatChunkSchema = z.looseObject({
  id: z.string(),
  model: z.string(),
  created: z.number(),
  system_fingerprint: z.string().optional(),
  choices: z.array(
    z.looseObject({
      delta: z
        .looseObject({
          content: z.string().nullable().optional(),
          tool_calls: z.array(z.unknown()).nullable().optional(),
          reasoning_content: z.string().nullable().optional(),
        })
        .optional(),
      finish_reason: z.string().nullable().optional(),
    }),
  ),
});

/**
 * Watches the chat stream relayed to a client and remembers what the client has been told: the
 * assistant text so far, how many content chunks (about one token each with llama-server) and the
 * envelope. When the node dies mid-answer this is what a continuation needs.
 */
export class StreamTranscript {
  private readonly decoder = new SseDecoder();
  private textParts: string[] = [];
  private base: ChunkBase | undefined;
  contentChunks = 0;
  finishReason: string | undefined;
  done = false;
  /** The stream carried an error event or something that was not a chat chunk. */
  broken = false;
  /** Tool calls or reasoning were streamed: plain text cannot continue those. */
  nonText = false;

  push(chunk: Uint8Array | string): void {
    this.record(this.decoder.push(chunk));
  }

  /** Takes events someone else already decoded (the relay's observer), sparing a second decode. */
  record(events: readonly SseEvent[]): void {
    for (const event of events) this.onData(event.data);
  }

  /** The stream ended: an unterminated last event still counts. */
  end(): void {
    for (const event of this.decoder.flush()) this.onData(event.data);
  }

  get text(): string {
    if (this.textParts.length > 1) this.textParts = [this.textParts.join("")];
    return this.textParts[0] ?? "";
  }

  get chunkBase(): ChunkBase | undefined {
    return this.base;
  }

  /** True when the answer broke off in a state another node can pick up as plain text. */
  get continuable(): boolean {
    return (
      this.base !== undefined &&
      !this.done &&
      this.finishReason === undefined &&
      !this.broken &&
      !this.nonText
    );
  }

  private onData(data: string): void {
    if (data === DONE_DATA) {
      this.done = true;
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      this.broken = true;
      return;
    }
    const parsed = chatChunkSchema.safeParse(payload);
    if (!parsed.success) {
      this.broken = true;
      return;
    }
    const chunk = parsed.data;
    this.base ??= {
      id: chunk.id,
      model: chunk.model,
      created: chunk.created,
      ...(chunk.system_fingerprint === undefined ? {} : { system_fingerprint: chunk.system_fingerprint }),
    };
    const choice = chunk.choices[0];
    if (!choice) return;
    const content = choice.delta?.content;
    if (content) {
      this.textParts.push(content);
      this.contentChunks += 1;
    }
    if (choice.delta?.tool_calls?.length || choice.delta?.reasoning_content) this.nonText = true;
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
  }
}
