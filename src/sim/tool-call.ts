import { randomUUID } from "node:crypto";
import type { SseChunk, WireFormat } from "./api-formats.js";
import { envelope, type Outcome, type ResponseMeta, roleChunk, timingsJson, usageJson } from "./format.js";
import { isRecord } from "./wire.js";

/** A call the request forces (`tool_choice: "required"` or a named function), as llama-server's grammar does. */
export interface ForcedToolCall {
  readonly name: string;
  /** The first required string parameter, filled with the generated text; none gives `{}`. */
  readonly parameter: string | undefined;
}

/**
 * With `--jinja`, llama-server constrains a request whose `tool_choice` demands a call to emit one.
 * The sim does the same without a model: the generated text becomes the value of the function's
 * first required parameter, so a gateway's pass-through of tool calls can be tested for sure.
 */
export function forcedToolCall(body: Record<string, unknown>): ForcedToolCall | undefined {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  const functions = tools.map((tool) => (isRecord(tool.function) ? tool.function : {}));
  const choice = body.tool_choice;
  const named = isRecord(choice) && isRecord(choice.function) ? choice.function.name : undefined;
  const chosen =
    typeof named === "string"
      ? functions.find((fn) => fn.name === named)
      : choice === "required"
        ? functions[0]
        : undefined;
  if (!chosen || typeof chosen.name !== "string") return undefined;
  const parameters = isRecord(chosen.parameters) ? chosen.parameters : {};
  const required = Array.isArray(parameters.required) ? parameters.required : [];
  const parameter = required.find((name): name is string => typeof name === "string");
  return { name: chosen.name, parameter };
}

/** The chat wire format for an answer that is one tool call: its arguments stream as they are made. */
export function toolCallFormat(call: ForcedToolCall): WireFormat {
  const id = `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`;
  const head = call.parameter === undefined ? "{" : `{${JSON.stringify(call.parameter)}: "`;
  const tail = call.parameter === undefined ? "}" : '"}';
  const escaped = (text: string) => (call.parameter === undefined ? "" : JSON.stringify(text).slice(1, -1));
  let started = false;
  const delta = (meta: ResponseMeta, fn: { name?: string; arguments: string }, first: boolean): SseChunk => ({
    data: {
      choices: [
        {
          finish_reason: null,
          index: 0,
          delta: {
            tool_calls: [
              first ? { index: 0, id, type: "function", function: fn } : { index: 0, function: fn },
            ],
          },
        },
      ],
      ...envelope(meta, "chat.completion.chunk"),
    },
  });
  return {
    opening: (meta) => [{ data: roleChunk(meta) }],
    token: (meta, piece) => {
      const first = !started;
      started = true;
      const fn = first
        ? { name: call.name, arguments: head + escaped(piece) }
        : { arguments: escaped(piece) };
      return [delta(meta, fn, first)];
    },
    closing: (meta, o, includeUsage) => {
      const first = !started;
      const fn = first ? { name: call.name, arguments: head + tail } : { arguments: tail };
      const finish = {
        choices: [{ finish_reason: "tool_calls", index: 0, delta: {} }],
        ...envelope(meta, "chat.completion.chunk"),
      };
      const closing: SseChunk[] = [delta(meta, fn, first)];
      if (!includeUsage) return [...closing, { data: { ...finish, timings: timingsJson(o) } }];
      const usage = {
        choices: [],
        ...envelope(meta, "chat.completion.chunk"),
        usage: usageJson(o),
        timings: timingsJson(o),
      };
      return [...closing, { data: finish }, { data: usage }];
    },
    whole: (meta, o: Outcome) => ({
      choices: [
        {
          finish_reason: "tool_calls",
          index: 0,
          message: {
            role: "assistant",
            content: null,
            tool_calls: [
              {
                type: "function",
                id,
                function: { name: call.name, arguments: head + escaped(o.text) + tail },
              },
            ],
          },
        },
      ],
      ...envelope(meta, "chat.completion"),
      usage: usageJson(o),
      timings: timingsJson(o),
    }),
    endsWithDone: true,
  };
}
