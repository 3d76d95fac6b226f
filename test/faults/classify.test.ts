import { describe, expect, it } from "vitest";
import { classifyStream, classifyUnary } from "./support/classify.js";

/** The suite's oracle must itself be right: each rule on a hand-written body. */
const SSE = "text/event-stream";
const chunk = (id: string, content: string | null, finish: string | null = null, idFirst = false) => {
  const body = { choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] };
  const json = idFirst ? { id, ...body } : { ...body, id };
  return `data: ${JSON.stringify(json)}\n\n`;
};
const DONE = "data: [DONE]\n\n";
const errorEvent =
  'data: {"error":{"message":"broke","type":"upstream_error","code":"stream_interrupted"}}\n\n';

describe("classifying what the gateway sent", () => {
  it("a whole stream is a success; gateway-written chunks mark a continuation", () => {
    const plain = classifyStream(
      "chat",
      200,
      SSE,
      `: keep-alive\n\n${chunk("a", "Hi")}${chunk("a", null, "stop")}${DONE}`,
    );
    expect(plain).toMatchObject({ verdict: "success", text: "Hi", ids: ["a"], continued: false });
    const continued = classifyStream(
      "chat",
      200,
      SSE,
      `${chunk("a", "Hi")}${chunk("a", " there", null, true)}${chunk("a", null, "stop", true)}${DONE}`,
    );
    expect(continued).toMatchObject({ verdict: "success", text: "Hi there", continued: true });
  });

  it("an error event last, without [DONE], is an explicit error", () => {
    expect(classifyStream("chat", 200, SSE, `${chunk("a", "Hi")}${errorEvent}`)).toMatchObject({
      verdict: "error",
      reason: "stream_interrupted",
    });
  });

  it.each([
    ["a stream that just stops", `${chunk("a", "Hi")}`],
    ["[DONE] after an error event", `${chunk("a", "Hi")}${errorEvent}${DONE}`],
    ["[DONE] after garbage", `${chunk("a", "Hi")}data: {"choi\n\n${DONE}`],
    ["an error spliced into a half event", `data: {"choices":[{"finish_re${errorEvent}`],
    ["a chunk id that changes", `${chunk("a", "Hi")}${chunk("b", "!")}${chunk("b", null, "stop")}${DONE}`],
    ["[DONE] without content", `${chunk("a", null, "stop")}${DONE}`],
    ["[DONE] without a finish_reason", `${chunk("a", "Hi")}${DONE}`],
  ])("%s is a violation", (_, body) => {
    expect(classifyStream("chat", 200, SSE, body).verdict).toBe("violation");
  });

  it("non-streamed: a complete body succeeds, an envelope with an error status is explicit", () => {
    const answer = JSON.stringify({ choices: [{ index: 0, text: "Once" }] });
    expect(classifyUnary("completions", 200, answer).verdict).toBe("success");
    expect(
      classifyUnary("chat", 504, '{"error":{"message":"late","code":"upstream_timeout"}}'),
    ).toMatchObject({
      verdict: "error",
      reason: "upstream_timeout",
    });
    expect(classifyUnary("chat", 502, "Bad gateway").verdict).toBe("violation");
    expect(classifyUnary("chat", 200, '{"choices":[{"message":{"content":"Hi"').verdict).toBe("violation");
  });
});
