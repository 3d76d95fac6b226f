import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SseDecoder } from "../../../src/openai/index.js";
import {
  type ContinuationInput,
  type ContinuationStream,
  continueChatStream,
  StreamTranscript,
} from "../../../src/resilience/index.js";
import type { SimNode } from "../../../src/sim/index.js";
import { NodeFault, UpstreamPools } from "../../../src/upstream/index.js";
import { sim } from "../sim/helpers.js";

const pools = new UpstreamPools({
  maxConnectionsPerNode: 4,
  connectTimeoutMs: 1000,
  keepAliveTimeoutMs: 1000,
  limits: { maxEventBytes: 1024 * 1024, maxResponseBytes: 16 * 1024 * 1024 },
  bufferedBytesBudget: 16 * 1024 * 1024,
});
const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});
afterAll(() => pools.close());

const messages = [
  { role: "system" as const, content: "You are a terse assistant." },
  { role: "user" as const, content: "Tell me a long story about the sea." },
];
const base = {
  id: "chatcmpl-broken123",
  model: "tiny",
  created: 1_700_000_000,
  system_fingerprint: "b1-sim",
};

function input(url: string, overrides: Partial<ContinuationInput> = {}): ContinuationInput {
  return {
    pools,
    target: { id: "b", url, apiKey: undefined },
    messages,
    sentText: " Once upon a time",
    sentTokens: 4,
    promptTokens: 30,
    chunkBase: base,
    maxTokens: 20,
    samplingParams: { temperature: 0.7, seed: 3 },
    includeUsage: true,
    signal: new AbortController().signal,
    ...overrides,
  };
}

type Chunk = {
  id: string;
  object: string;
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: Array<{ delta: { content?: string }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error?: { code: string };
};

async function collect(stream: ContinuationStream): Promise<Array<Chunk | "[DONE]">> {
  const decoder = new SseDecoder();
  const events = [];
  for await (const text of stream) events.push(...decoder.push(text));
  return events.map((event) => (event.data === "[DONE]" ? "[DONE]" : (JSON.parse(event.data) as Chunk)));
}

/** Reads a chat stream into a transcript until the body ends or breaks. */
async function transcribe(res: Response): Promise<StreamTranscript> {
  const transcript = new StreamTranscript();
  const reader = res.body!.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      transcript.push(value);
    }
  } catch {
    // The node died: what arrived so far is the transcript.
  }
  transcript.end();
  return transcript;
}

function chatStream(node: SimNode, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${node.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages, stream: true, max_tokens: 12, ...extra }),
  });
}

describe("StreamTranscript", () => {
  it("follows a complete chat stream", async () => {
    const node = await sim();
    const transcript = await transcribe(await chatStream(node));
    expect(transcript.done).toBe(true);
    expect(transcript.finishReason).toMatch(/stop|length/);
    expect(transcript.contentChunks).toBeGreaterThan(0);
    expect(transcript.text.length).toBeGreaterThan(0);
    expect(transcript.chunkBase).toMatchObject({ id: expect.stringMatching(/^chatcmpl-/), model: "tiny" });
    expect(transcript.continuable).toBe(false);
  });

  it("knows what was sent when the node dies mid-answer", async () => {
    const node = await sim({ tokensPerSecond: 100, faults: { dieAfterTokens: 3 } });
    const transcript = await transcribe(await chatStream(node));
    expect(transcript.done).toBe(false);
    // The sim destroys the socket right after its last write, which can take that write with it.
    expect(transcript.contentChunks).toBeGreaterThanOrEqual(1);
    expect(transcript.contentChunks).toBeLessThanOrEqual(3);
    expect(transcript.text.length).toBeGreaterThan(0);
    expect(transcript.continuable).toBe(true);
  });

  it("will not continue a stream that carried an error or tool calls", () => {
    const broken = new StreamTranscript();
    broken.push(`data: ${JSON.stringify({ ...base, choices: [{ delta: { content: "Hi" } }] })}\n\n`);
    broken.push('data: {"error":{"message":"boom"}}\n\n');
    expect(broken.continuable).toBe(false);
    const tools = new StreamTranscript();
    tools.push(
      `data: ${JSON.stringify({ ...base, choices: [{ delta: { tool_calls: [{ index: 0 }] } }] })}\n\n`,
    );
    expect(tools.continuable).toBe(false);
  });
});

describe("continueChatStream on a simulated node", () => {
  it("continues a broken answer as one chat stream with the same id", async () => {
    const dying = await sim({ tokensPerSecond: 100, faults: { dieAfterTokens: 3 } });
    const transcript = await transcribe(await chatStream(dying, { stream_options: { include_usage: true } }));
    const rescuer = await sim();
    const stream = await continueChatStream(
      input(rescuer.url, {
        sentText: transcript.text,
        sentTokens: transcript.contentChunks,
        chunkBase: transcript.chunkBase!,
        maxTokens: 12,
      }),
    );
    const events = await collect(stream);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as Chunk[];
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ ...transcript.chunkBase, object: "chat.completion.chunk" });
    }
    const content = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(content.length).toBeGreaterThan(0);
    expect(content.length).toBeLessThanOrEqual(12 - transcript.contentChunks);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]).toEqual({
      index: 0,
      delta: {},
      finish_reason: expect.stringMatching(/stop|length/),
    });
    const usage = chunks.at(-1)?.usage;
    const completion = transcript.contentChunks + content.length;
    expect(usage).toEqual({
      prompt_tokens: 30,
      completion_tokens: completion,
      total_tokens: 30 + completion,
    });
    expect(stream.outcome).toMatchObject({ failure: undefined, completionTokens: content.length });
  });

  it("ends with an explicit stream_interrupted event and no [DONE] when the continuation node dies", async () => {
    const node = await sim({ tokensPerSecond: 100, faults: { dieAfterTokens: 2 } });
    const stream = await continueChatStream(input(node.url));
    const events = await collect(stream);
    expect(events).not.toContain("[DONE]");
    const chunks = events as Chunk[];
    const content = chunks.filter((c) => c.choices?.[0]?.delta.content);
    expect(content.length).toBeGreaterThanOrEqual(1);
    expect(content.length).toBeLessThanOrEqual(2);
    expect(chunks.at(-1)?.error).toMatchObject({ code: "stream_interrupted" });
    expect(stream.outcome.failure).toBeInstanceOf(NodeFault);
  });

  it("rejects before the first token so that the caller can try another node", async () => {
    const dead = await sim();
    dead.kill();
    await expect(continueChatStream(input(dead.url))).rejects.toBeInstanceOf(NodeFault);
    const dying = await sim({ faults: { dieAfterTokens: 0 } });
    await expect(continueChatStream(input(dying.url))).rejects.toBeInstanceOf(NodeFault);
    const failing = await sim({ faults: { errorRate: 1 } });
    await expect(continueChatStream(input(failing.url))).rejects.toMatchObject({ code: "upstream_error" });
  });

  it("finishes with length at once when the budget was already spent", async () => {
    const stream = await continueChatStream(input("http://127.0.0.1:9", { maxTokens: 4, sentTokens: 4 }));
    const events = await collect(stream);
    expect(events.map((e) => (e === "[DONE]" ? e : (e.choices[0]?.finish_reason ?? "usage")))).toEqual([
      "length",
      "usage",
      "[DONE]",
    ]);
  });
});

describe("continueChatStream request and relay", () => {
  /** A node that renders a fixed template and streams the given completion events. */
  async function fakeNode(events: string[]) {
    const seen: Record<string, unknown>[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        seen.push({ path: req.url, ...(JSON.parse(body) as Record<string, unknown>) });
        if (req.url === "/apply-template") {
          res.writeHead(200, { "content-type": "application/json" }).end('{"prompt":"<user>hi<assistant>"}');
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (const event of events) res.write(`data: ${event}\n\n`);
        res.end();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }

  const text = (t: string, finish: string | null = null, usage?: object) =>
    JSON.stringify({
      object: "text_completion",
      choices: [{ text: t, index: 0, finish_reason: finish }],
      usage,
    });

  it("sends the rendered prompt plus the sent text, the remaining tokens and the sampling params", async () => {
    const node = await fakeNode([
      text(" there"),
      text("!", "stop", { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 }),
      "[DONE]",
    ]);
    const stream = await continueChatStream(
      input(node.url, {
        sentText: " Hello",
        sentTokens: 1,
        maxTokens: 10,
        promptTokens: undefined,
        samplingParams: { temperature: 0.2, stop: ["\n"], max_tokens: 999, stream: false, model: "x" },
      }),
    );
    const events = await collect(stream);
    expect(node.seen[0]).toEqual({ path: "/apply-template", messages });
    expect(node.seen[1]).toMatchObject({
      path: "/v1/completions",
      prompt: "<user>hi<assistant> Hello",
      stream: true,
      max_tokens: 9,
      temperature: 0.2,
      stop: ["\n"],
      model: "tiny",
    });
    const contents = (events as Chunk[]).map((e) => e.choices?.[0]?.delta.content).filter(Boolean);
    expect(contents).toEqual([" there", "!"]);
    // The continuation's prompt held the sent token, so the original prompt was 9 - 1.
    expect((events.at(-2) as Chunk).usage).toEqual({
      prompt_tokens: 8,
      completion_tokens: 3,
      total_tokens: 11,
    });
  });

  it("turns an error event after the first token into stream_interrupted", async () => {
    const node = await fakeNode([text(" a"), '{"error":{"message":"slot died","code":500}}']);
    const stream = await continueChatStream(input(node.url));
    const events = (await collect(stream)) as Chunk[];
    expect(events.at(-1)?.error).toMatchObject({ code: "stream_interrupted" });
    expect(stream.outcome.failure?.message).toContain("slot died");
  });

  it("rejects a malformed chunk before the first token as the node's fault", async () => {
    const node = await fakeNode(['{"choices":[{"nope":1}]}']);
    await expect(continueChatStream(input(node.url))).rejects.toMatchObject({
      code: "upstream_malformed_response",
    });
  });
});
