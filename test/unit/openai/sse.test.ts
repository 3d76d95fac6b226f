import { describe, expect, it } from "vitest";
import { SseDecoder } from "../../../src/openai/index.js";

describe("SSE decoder", () => {
  it("reassembles events split across chunks and skips comments", () => {
    const decoder = new SseDecoder();
    expect(decoder.push(': keep-alive\n\ndata: {"a"')).toEqual([]);
    expect(decoder.push(":1}\n\ndata: [DONE]\n")).toEqual([{ data: '{"a":1}' }]);
    expect(decoder.push("\n")).toEqual([{ data: "[DONE]" }]);
  });

  it("handles CRLF boundaries, multi-line data and a multi-byte character split across chunks", () => {
    const decoder = new SseDecoder();
    const bytes = new TextEncoder().encode("data: é\r\n\r\ndata: a\ndata: b\n\n");
    const events = [...decoder.push(bytes.slice(0, 7)), ...decoder.push(bytes.slice(7))];
    expect(events).toEqual([{ data: "é" }, { data: "a\nb" }]);
  });

  it("flushes an unterminated final event", () => {
    const decoder = new SseDecoder();
    decoder.push("event: x\ndata: tail");
    expect(decoder.flush()).toEqual([{ data: "tail", event: "x" }]);
  });
});
