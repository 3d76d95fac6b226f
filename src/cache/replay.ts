import { randomUUID } from "node:crypto";
import { DONE_EVENT } from "../openai/index.js";
import type { AnswerBody, ChatAnswer, TextAnswer } from "./answer.js";

/** A hit is a new response: its own id, in the style of the stored one (`chatcmpl-...`). */
export function freshId(storedId: string): string {
  const dash = storedId.lastIndexOf("-");
  return `${dash === -1 ? "" : storedId.slice(0, dash + 1)}${randomUUID().replaceAll("-", "")}`;
}

/** The stored answer as a non-streamed client gets it. */
export function replayBody(body: AnswerBody, id: string): AnswerBody {
  return { ...body, id };
}

/**
 * The stored answer as a streamed client gets it, chunked the way llama-server sends one: per choice
 * the role chunk, reasoning and content in small deltas, each tool call's name then its arguments in
 * deltas, the finish chunk; then the usage chunk when asked for, and `[DONE]`.
 */
export function replayEvents(body: AnswerBody, id: string, includeUsage: boolean): string[] {
  const events =
    body.object === "chat.completion" ? chatEvents(body, id, includeUsage) : textEvents(body, id);
  events.push(DONE_EVENT);
  return events;
}

/**
 * Writes the chunks of one stream: their shared envelope is serialised once, and each chunk only
 * adds its choices (and the usage, on the chunk that carries it).
 */
function chunkWriter(body: AnswerBody, id: string, object: string) {
  const envelope = JSON.stringify({
    created: body.created,
    id,
    model: body.model,
    ...(body.system_fingerprint === undefined ? {} : { system_fingerprint: body.system_fingerprint }),
    object,
  }).slice(1, -1);
  return (choices: readonly unknown[], usage?: unknown): string =>
    `data: {"choices":${JSON.stringify(choices)},${envelope}${usage === undefined ? "" : `,"usage":${JSON.stringify(usage)}`}}\n\n`;
}

function chatEvents(body: ChatAnswer, id: string, includeUsage: boolean): string[] {
  const write = chunkWriter(body, id, "chat.completion.chunk");
  const chunk = (index: number, delta: Record<string, unknown>, finishReason: string | null = null) =>
    write([{ finish_reason: finishReason, index, delta }]);
  const events: string[] = [];
  for (const { index, message, finish_reason } of body.choices) {
    events.push(chunk(index, { role: "assistant", content: null }));
    for (const piece of pieces(message.reasoning_content ?? "")) {
      events.push(chunk(index, { reasoning_content: piece }));
    }
    for (const piece of pieces(message.content ?? "")) events.push(chunk(index, { content: piece }));
    (message.tool_calls ?? []).forEach((call, position) => {
      const opening = {
        index: position,
        id: call.id,
        type: call.type,
        function: { name: call.function.name, arguments: "" },
      };
      events.push(chunk(index, { tool_calls: [opening] }));
      for (const piece of pieces(call.function.arguments)) {
        events.push(chunk(index, { tool_calls: [{ index: position, function: { arguments: piece } }] }));
      }
    });
    events.push(chunk(index, {}, finish_reason));
  }
  if (includeUsage) events.push(write([], body.usage));
  return events;
}

/** Text completions end as llama-server ends them: the last choice's finish chunk carries the usage. */
function textEvents(body: TextAnswer, id: string): string[] {
  const write = chunkWriter(body, id, "text_completion");
  const chunk = (index: number, text: string, finishReason: string | null, usage?: unknown) =>
    write([{ text, index, logprobs: null, finish_reason: finishReason }], usage);
  const events: string[] = [];
  body.choices.forEach(({ index, text, finish_reason }, position) => {
    for (const piece of pieces(text)) events.push(chunk(index, piece, null));
    const last = position === body.choices.length - 1;
    events.push(chunk(index, "", finish_reason, last ? body.usage : undefined));
  });
  return events;
}

/** Word-sized pieces (at most 16 characters), about a token each, that join back to the text exactly. */
export function pieces(text: string): string[] {
  return text.match(/\s*\S{1,16}|\s+/gu) ?? [];
}
