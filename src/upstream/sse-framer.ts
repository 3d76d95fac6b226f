const LF = 0x0a;
const CR = 0x0d;

/** What one node's response may cost the gateway. */
export interface FramingLimits {
  /** One event (from the end of the previous one to its blank line) may be at most this long. */
  readonly maxEventBytes: number;
  /** The whole response may be at most this long, counted from its first byte. */
  readonly maxResponseBytes: number;
}

/** A limit the node broke; the stream cannot go on. */
export class SseOverflow {
  constructor(readonly detail: string) {}
}

/**
 * Cuts a byte stream at SSE event boundaries. The relay forwards whole events only, so that whatever
 * happens to the node, the client's stream stays well-formed: an error event the gateway adds after a
 * failure never lands in the middle of a half-relayed event, and a node that trickles bytes without
 * ever completing an event is seen to be producing nothing.
 *
 * Each byte is looked at once: the search goes on from where it stopped, and the incomplete event's
 * chunks are kept apart until a boundary arrives, so a node that never ends its event costs linear
 * time and is cut off at `maxEventBytes` instead of stalling the event loop.
 */
export class SseFramer {
  private parts: Buffer[] = [];
  private received = 0;
  /** Offset in the stream where the incomplete event starts. */
  private eventStart = 0;
  /** The stream's last three bytes, for a boundary split across chunks (0 = none yet). */
  private tail = [0, 0, 0];

  constructor(private readonly limits: FramingLimits) {}

  /** The complete events so far, in one piece; undefined while the bytes hold no complete event. */
  push(chunk: Uint8Array): Uint8Array | undefined | SseOverflow {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const base = this.received;
    this.received += bytes.length;
    if (this.received > this.limits.maxResponseBytes) {
      return new SseOverflow(`the response exceeds ${this.limits.maxResponseBytes} bytes`);
    }
    let cut = 0;
    for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) {
      if (!this.endsEvent(bytes, i)) continue;
      if (base + i + 1 - this.eventStart > this.limits.maxEventBytes) return this.eventOverflow();
      this.eventStart = base + i + 1;
      cut = i + 1;
    }
    this.remember(bytes);
    if (this.received - this.eventStart > this.limits.maxEventBytes) return this.eventOverflow();
    if (cut === 0) {
      this.parts.push(bytes);
      return undefined;
    }
    const head = bytes.subarray(0, cut);
    const events = this.parts.length === 0 ? head : Buffer.concat([...this.parts, head]);
    this.parts = cut < bytes.length ? [bytes.subarray(cut)] : [];
    return events;
  }

  /** Bytes of an event not yet complete. */
  get rest(): Uint8Array | undefined {
    if (this.parts.length > 1) this.parts = [Buffer.concat(this.parts)];
    return this.parts[0];
  }

  /** Whether the LF at `i` closes an event: `\n\n` or `\r\n\r\n`, possibly begun in an earlier chunk. */
  private endsEvent(bytes: Buffer, i: number): boolean {
    const before = (back: number) => (i >= back ? bytes[i - back] : this.tail[3 - back + i]);
    const previous = before(1);
    return previous === LF || (previous === CR && before(2) === LF && before(3) === CR);
  }

  private remember(bytes: Buffer): void {
    const n = bytes.length;
    if (n >= 3) this.tail = [bytes[n - 3]!, bytes[n - 2]!, bytes[n - 1]!];
    else this.tail = [...this.tail.slice(n), ...bytes];
  }

  private eventOverflow(): SseOverflow {
    return new SseOverflow(`an event exceeds ${this.limits.maxEventBytes} bytes`);
  }
}
