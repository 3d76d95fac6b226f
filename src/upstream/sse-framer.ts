const LF_BOUNDARY = Buffer.from("\n\n");
const CRLF_BOUNDARY = Buffer.from("\r\n\r\n");

/**
 * Cuts a byte stream at SSE event boundaries. The relay forwards whole events only, so that whatever
 * happens to the node, the client's stream stays well-formed: an error event the gateway adds after a
 * failure never lands in the middle of a half-relayed event, and a node that trickles bytes without
 * ever completing an event is seen to be producing nothing.
 */
export class SseFramer {
  private pending: Buffer | undefined;

  /** The complete events so far, in one piece; undefined while the bytes hold no complete event. */
  push(chunk: Uint8Array): Uint8Array | undefined {
    const bytes = this.pending
      ? Buffer.concat([this.pending, chunk])
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const end = Math.max(endOf(bytes, LF_BOUNDARY), endOf(bytes, CRLF_BOUNDARY));
    if (end === -1) {
      this.pending = bytes;
      return undefined;
    }
    this.pending = end < bytes.length ? bytes.subarray(end) : undefined;
    return bytes.subarray(0, end);
  }

  /** Bytes of an event not yet complete. */
  get rest(): Uint8Array | undefined {
    return this.pending;
  }
}

function endOf(bytes: Buffer, boundary: Buffer): number {
  const at = bytes.lastIndexOf(boundary);
  return at === -1 ? -1 : at + boundary.length;
}
