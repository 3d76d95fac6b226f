import { describe, expect, it } from "vitest";
import { SseDecoder } from "../../src/openai/index.js";
import { SseFramer, SseOverflow } from "../../src/upstream/index.js";

/**
 * Issue 15, finding 1: the framer re-scanned and re-copied its whole pending buffer on every chunk,
 * so a node that never ended its event cost quadratic time (a 10 MB event stalled the loop for
 * 928 ms), and nothing capped the bytes before the first event.
 */
const MiB = 1024 * 1024;
const roomy = { maxEventBytes: 256 * MiB, maxResponseBytes: 1024 * MiB };
/**
 * Whether work of size 8n costs about 8× work of size n, not 64× (quadratic): the best of three runs
 * each, as a ratio, so a machine busy with other work slows both sides alike (timing-sensitive).
 */
function scalesLinearly(run: (n: number) => void, n: number): { small: number; large: number } {
  const best = (size: number) => {
    let fastest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      run(size);
      fastest = Math.min(fastest, performance.now() - started);
    }
    return fastest;
  };
  const small = Math.max(best(n), 1);
  return { small, large: best(8 * n) };
}

const text = (bytes: Uint8Array | undefined | SseOverflow) =>
  bytes instanceof SseOverflow || bytes === undefined ? bytes : Buffer.from(bytes).toString();

describe("the SSE framer, against a node that never ends its event", () => {
  it("costs linear time (timing-sensitive, as a ratio): up to 32 MiB without a boundary, in 16 KiB chunks", () => {
    const chunk = Buffer.alloc(16 * 1024, "a");
    const flood = (chunks: number) => {
      const framer = new SseFramer(roomy);
      expect(framer.push(Buffer.from('data: {"x":"'))).toBeUndefined();
      for (let i = 0; i < chunks; i++) expect(framer.push(chunk)).toBeUndefined();
      const ended = framer.push(Buffer.from('"}\n\n'));
      expect((ended as Uint8Array).byteLength).toBe(12 + chunks * 16 * 1024 + 4);
    };
    // Quadratic re-copying of the pending bytes made 8× the flood cost 64× the time.
    const { small, large } = scalesLinearly(flood, 256);
    expect(large, `4 MiB took ${small.toFixed(1)} ms, 32 MiB ${large.toFixed(1)} ms`).toBeLessThan(
      small * 24,
    );
  });

  it("cuts an event off at maxEventBytes, complete or not", () => {
    const limits = { maxEventBytes: 1024, maxResponseBytes: MiB };
    const partial = new SseFramer(limits);
    expect(partial.push(Buffer.from(`data: ${"a".repeat(1000)}`))).toBeUndefined();
    const cut = partial.push(Buffer.from("a".repeat(100)));
    expect(cut).toBeInstanceOf(SseOverflow);
    expect((cut as SseOverflow).detail).toContain("1024");
    const whole = new SseFramer(limits);
    expect(whole.push(Buffer.from(`data: ok\n\ndata: ${"a".repeat(2000)}\n\n`))).toBeInstanceOf(SseOverflow);
    // Many small events are fine however long the stream.
    const many = new SseFramer(limits);
    for (let i = 0; i < 1000; i++)
      expect(text(many.push(Buffer.from(`data: ${i}\n\n`)))).toBe(`data: ${i}\n\n`);
  });

  it("counts maxResponseBytes from the first byte, before any event", () => {
    const framer = new SseFramer({ maxEventBytes: 64 * MiB, maxResponseBytes: 4096 });
    expect(framer.push(Buffer.alloc(4000, "a"))).toBeUndefined();
    expect(framer.push(Buffer.alloc(100, "a"))).toBeInstanceOf(SseOverflow);
    const events = new SseFramer({ maxEventBytes: 64 * MiB, maxResponseBytes: 4096 });
    for (let i = 0; i < 409; i++) expect(events.push(Buffer.from("data: 12\n\n"))).toBeInstanceOf(Uint8Array);
    expect(events.push(Buffer.from("data: 12\n\n"))).toBeInstanceOf(SseOverflow);
  });

  it("still finds boundaries split across chunks, LF and CRLF, and keeps the rest", () => {
    const framer = new SseFramer(roomy);
    expect(framer.push(Buffer.from("data: a\n"))).toBeUndefined();
    expect(text(framer.push(Buffer.from("\ndata: b\r")))).toBe("data: a\n\n");
    expect(framer.push(Buffer.from("\n"))).toBeUndefined();
    expect(framer.push(Buffer.from("\r"))).toBeUndefined();
    expect(text(framer.push(Buffer.from("\ndata: c")))).toBe("data: b\r\n\r\n");
    expect(text(framer.rest)).toBe("data: c");
    const joined = new SseFramer(roomy);
    expect(text(joined.push(Buffer.from("data: 1\n\ndata: 2\n\ndata: 3")))).toBe("data: 1\n\ndata: 2\n\n");
    expect(text(joined.push(Buffer.from("\n\n")))).toBe("data: 3\n\n");
    expect(joined.rest).toBeUndefined();
  });

  it("the decoder after it costs linear time too (timing-sensitive, as a ratio): many small events in one piece", () => {
    // Looking for a CRLF boundary across everything left, once per event, was quadratic.
    const decode = (events: number) => {
      expect(new SseDecoder().push(Buffer.from("data: x\n\n".repeat(events)))).toHaveLength(events);
    };
    const { small, large } = scalesLinearly(decode, 32 * 1024);
    expect(large, `32k events took ${small.toFixed(1)} ms, 256k ${large.toFixed(1)} ms`).toBeLessThan(
      small * 24,
    );
  });
});
