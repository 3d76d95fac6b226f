import { afterEach } from "vitest";
import { SseDecoder } from "../../../src/openai/sse.js";
import { type SimNode, type SimNodeOptions, startSimNode } from "../../../src/sim/index.js";

const started: SimNode[] = [];

/** Fast defaults so that a whole request takes a few tens of milliseconds. */
export async function sim(options: SimNodeOptions = {}): Promise<SimNode> {
  const node = await startSimNode({
    ttftMs: 5,
    tokensPerSecond: 1000,
    prefillTokensPerSecond: 100_000,
    ...options,
  });
  started.push(node);
  return node;
}

afterEach(() => {
  for (const node of started.splice(0)) node.kill();
});

export function post(node: SimNode, path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(node.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: init.signal ?? null,
  });
}

export const chatBody = (
  content = "Hello there, how are you today?",
  extra: Record<string, unknown> = {},
) => ({
  model: "tiny",
  messages: [
    { role: "system", content: "You are a terse assistant that answers in pseudo-words." },
    { role: "user", content },
  ],
  ...extra,
});

export type Json = Record<string, unknown> & {
  choices: Array<Record<string, unknown> & { delta: Record<string, unknown> }>;
};

/** Every `data:` payload of an SSE body, in order; JSON ones parsed, `[DONE]` kept as the string. */
export async function readEvents(res: Response): Promise<Array<Json | "[DONE]">> {
  const decoder = new SseDecoder();
  const events = decoder.push(await res.text());
  events.push(...decoder.flush());
  return events.map((event) => (event.data === "[DONE]" ? "[DONE]" : (JSON.parse(event.data) as Json)));
}

/** Reads a streamed body until `count` data events have arrived, then returns them with the reader. */
export async function readSomeEvents(res: Response, count: number) {
  if (!res.body) throw new Error("no body");
  const reader = res.body.getReader();
  const decoder = new SseDecoder();
  const events: string[] = [];
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    events.push(...decoder.push(value).map((event) => event.data));
  }
  return { events, reader };
}

export async function metric(node: SimNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`llamacpp:${name} `));
  if (!line) throw new Error(`metric ${name} missing`);
  return Number(line.split(" ")[1]);
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The parts of llama-server's bodies the tests read; `json()` casts because the sim is under test. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}
export interface Timings {
  cache_n: number;
  prompt_n: number;
  prompt_ms: number;
  prompt_per_token_ms: number;
  predicted_n: number;
  predicted_per_second: number;
}
export interface Completion {
  choices: Array<{ finish_reason: string; message: { role: string; content: string }; text: string }>;
  usage: Usage;
  timings: Timings;
}
export interface ErrorBody {
  error: Record<string, unknown> & { message: string };
}

export async function json<T = Record<string, unknown>>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}
