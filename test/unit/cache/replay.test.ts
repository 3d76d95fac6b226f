import { describe, expect, it } from "vitest";
import {
  type AnswerBody,
  AnswerRecorder,
  freshId,
  pieces,
  replayBody,
  replayEvents,
} from "../../../src/cache/index.js";
import { SseDecoder } from "../../../src/openai/index.js";

const usage = {
  completion_tokens: 9,
  prompt_tokens: 5,
  total_tokens: 14,
  prompt_tokens_details: { cached_tokens: 0 },
};

const chat: AnswerBody = {
  choices: [
    {
      finish_reason: "tool_calls",
      index: 0,
      message: {
        role: "assistant",
        content: "Let me look that up for you, 一二三四五六七八九十一二三四五六七八九十.",
        reasoning_content: "The user wants the weather.",
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "weather", arguments: '{"city": "Paris", "unit": "c"}' },
          },
          { id: "call_2", type: "function", function: { name: "time", arguments: "{}" } },
        ],
      },
    },
    { finish_reason: "stop", index: 1, message: { role: "assistant", content: "Second choice." } },
  ],
  created: 1_700_000_000,
  id: "chatcmpl-abc",
  model: "tiny",
  system_fingerprint: "b1-x",
  object: "chat.completion",
  usage,
};

const text: AnswerBody = {
  choices: [{ text: " once upon a time", index: 0, logprobs: null, finish_reason: "length" }],
  created: 1_700_000_000,
  id: "cmpl-abc",
  model: "tiny",
  object: "text_completion",
  usage,
};

function recordStream(kind: "chat" | "completions", events: readonly string[]): AnswerRecorder {
  const recorder = new AnswerRecorder(kind, 1 << 20);
  const decoder = new SseDecoder();
  for (const event of events) recorder.record(decoder.push(event));
  return recorder;
}

describe("replaying a stored answer", () => {
  it("splits text into small pieces that join back exactly", () => {
    const sample = "  Hello,   world!\n\nA verylongwordthatgoesonandonandon end  ";
    expect(pieces(sample).join("")).toBe(sample);
    expect(pieces(sample).every((piece) => piece.trim().length <= 16)).toBe(true);
    expect(pieces("")).toEqual([]);
  });

  it("streams a chat answer as a node does, and reads back to the same answer", () => {
    const events = replayEvents(chat, "chatcmpl-new", true);
    expect(events.at(-1)).toBe("data: [DONE]\n\n");
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.slice(6)) as Record<string, never>);
    expect(chunks[0]).toMatchObject({ choices: [{ index: 0, delta: { role: "assistant", content: null } }] });
    expect(
      chunks.every((chunk) => chunk.id === "chatcmpl-new" && chunk.object === "chat.completion.chunk"),
    ).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage });
    expect(chunks.length).toBeGreaterThan(15);
    expect(recordStream("chat", events).answer()).toEqual(replayBody(chat, "chatcmpl-new"));
  });

  it("leaves the usage chunk out unless asked", () => {
    const events = replayEvents(chat, "chatcmpl-new", false);
    expect(events.some((event) => event.includes('"usage"'))).toBe(false);
  });

  it("streams a text completion with the usage on its last chunk, and reads back the same", () => {
    const events = replayEvents(text, "cmpl-new", false);
    expect(events.at(-2)).toContain('"finish_reason":"length"');
    expect(events.at(-2)).toContain('"usage"');
    expect(recordStream("completions", events).answer()).toEqual(replayBody(text, "cmpl-new"));
  });

  it("gives each hit its own id in the stored one's style", () => {
    expect(freshId("chatcmpl-abc")).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(freshId("chatcmpl-abc")).not.toBe(freshId("chatcmpl-abc"));
  });
});

describe("recording an answer", () => {
  it("keeps a whole body without llama.cpp's timings", () => {
    const recorder = new AnswerRecorder("chat", 1 << 20);
    recorder.whole({ ...chat, timings: { prompt_n: 1, prompt_ms: 1, predicted_n: 1, predicted_ms: 1 } });
    expect(recorder.answer()).toEqual(chat);
  });

  it("takes a stream's usage from its timings when the client did not ask for usage", () => {
    const events = replayEvents(text, "cmpl-1", false).map((event) =>
      event.replace(
        /"usage":\{[^}]*\{[^}]*\}\}/,
        '"timings":{"cache_n":2,"prompt_n":3,"prompt_ms":1,"predicted_n":9,"predicted_ms":5}',
      ),
    );
    expect(recordStream("completions", events).answer()?.usage).toEqual({
      completion_tokens: 9,
      prompt_tokens: 5,
      total_tokens: 14,
      prompt_tokens_details: { cached_tokens: 2 },
    });
  });

  it("keeps nothing from a stream with an error event, an unfinished choice or too much text", () => {
    const events = replayEvents(chat, "c-1", true);
    const withError = [...events.slice(0, 3), 'data: {"error":{"message":"boom"}}\n\n'];
    expect(recordStream("chat", withError).answer()).toBeUndefined();
    const unfinished = events.filter((event) => !event.includes('"finish_reason":"stop"'));
    expect(recordStream("chat", unfinished).answer()).toBeUndefined();
    const small = new AnswerRecorder("chat", 200);
    const decoder = new SseDecoder();
    for (const event of events) small.record(decoder.push(event));
    expect(small.answer()).toBeUndefined();
    const wrongKind = recordStream("completions", events);
    expect(wrongKind.answer()).toBeUndefined();
  });

  it("keeps nothing from a body that is not a complete answer it can replay", () => {
    const bad = [
      { ...chat, choices: [] },
      { ...chat, usage: undefined },
      { ...chat, choices: [{ index: 0, message: { role: "assistant", content: "x" }, finish_reason: null }] },
      {
        ...chat,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: "x", audio: { id: "a" } },
            finish_reason: "stop",
          },
        ],
      },
      { error: { message: "no" } },
    ];
    for (const body of bad) {
      const recorder = new AnswerRecorder("chat", 1 << 20);
      recorder.whole(body);
      expect(recorder.answer()).toBeUndefined();
    }
  });
});
