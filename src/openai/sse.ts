/**
 * Server-sent events as OpenAI and llama-server use them: `data: <json>` events separated by a blank
 * line, `: comment` lines for keep-alive, and a final `data: [DONE]`.
 */
export const DONE_DATA = "[DONE]";
export const DONE_EVENT = "data: [DONE]\n\n";

export function encodeData(data: string): string {
  return `data: ${data}\n\n`;
}

export function encodeComment(text: string): string {
  return `: ${text}\n\n`;
}

/** One parsed event; `data` joins multi-line data fields with "\n" as the SSE spec says. */
export interface SseEvent {
  data: string;
  event?: string;
}

/**
 * Incremental decoder: feed it chunks as they arrive from the network, get back complete events.
 * Comments and unknown fields are dropped; partial events wait for the next chunk.
 */
export class SseDecoder {
  private buffer = "";
  private readonly textDecoder = new TextDecoder();

  push(chunk: Uint8Array | string): SseEvent[] {
    this.buffer += typeof chunk === "string" ? chunk : this.textDecoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    for (;;) {
      const boundary = findBoundary(this.buffer);
      if (!boundary) break;
      const block = this.buffer.slice(0, boundary.index);
      this.buffer = this.buffer.slice(boundary.index + boundary.length);
      const event = parseBlock(block);
      if (event) events.push(event);
    }
    return events;
  }

  /** Whatever is left when the stream ends; an unterminated final event still counts. */
  flush(): SseEvent[] {
    const rest = this.buffer + this.textDecoder.decode();
    this.buffer = "";
    const event = rest.trim() ? parseBlock(rest) : undefined;
    return event ? [event] : [];
  }
}

function findBoundary(text: string): { index: number; length: number } | undefined {
  const lf = text.indexOf("\n\n");
  const crlf = text.indexOf("\r\n\r\n");
  if (lf === -1 && crlf === -1) return undefined;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { index: crlf, length: 4 };
  return { index: lf, length: 2 };
}

function parseBlock(block: string): SseEvent | undefined {
  const data: string[] = [];
  let event: string | undefined;
  for (const rawLine of block.split(/\r?\n/)) {
    if (rawLine === "" || rawLine.startsWith(":")) continue;
    const colon = rawLine.indexOf(":");
    const field = colon === -1 ? rawLine : rawLine.slice(0, colon);
    let value = colon === -1 ? "" : rawLine.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
  }
  if (data.length === 0) return undefined;
  return event === undefined ? { data: data.join("\n") } : { data: data.join("\n"), event };
}
