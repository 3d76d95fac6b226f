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

const LF = 10;
const CR = 13;

/**
 * The first `\n\n` or `\r\n\r\n`. Walking line ends stops at the first boundary: searching for each
 * pattern across the whole text would scan every remaining byte once per event.
 */
function findBoundary(text: string): { index: number; length: number } | undefined {
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) {
    const next = text.charCodeAt(i + 1);
    if (next === LF) return { index: i, length: 2 };
    if (next === CR && text.charCodeAt(i + 2) === LF && text.charCodeAt(i - 1) === CR) {
      return { index: i - 1, length: 4 };
    }
  }
  return undefined;
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
