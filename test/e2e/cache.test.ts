/**
 * The prompt cache in front of a real llama-server: identical requests across two replicas sharing a
 * real Redis reach the node once, and the openai SDK reads a hit, streamed or not, as it reads the
 * node's own answer.
 */
import { randomUUID } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import { silentLogger } from "../../src/telemetry/index.js";
import { clearRedisPrefix, testRedisUrl } from "../support/redis.js";
import { type LlamaFleet, startLlamaFleet, TINY_MODEL_ALIAS } from "./llama-harness.js";
import { shapeDiff } from "./shape.js";

const KEY = "e2e-cache-key-0123456789abcdef";

/** Passes every request to the node and counts the completions it forwarded. */
async function countingProxy(
  target: string,
): Promise<{ url: string; completions: () => number; server: Server }> {
  let completions = 0;
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    if (req.url?.includes("completions")) completions += 1;
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, completions: () => completions, server };
}

type Chunk = {
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: unknown;
};

async function collect(stream: AsyncIterable<unknown>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of stream) chunks.push(chunk as Chunk);
  return chunks;
}

function kindOf(chunk: Chunk): string {
  const choice = chunk.choices[0];
  if (!choice) return "usage";
  if (choice.finish_reason) return "finish";
  return "role" in choice.delta ? "role" : "content";
}

/** Usage without the node's KV-cache reuse, the one count two runs of a prompt may differ in. */
function counts(usage: unknown): unknown {
  const { prompt_tokens_details: _reuse, ...rest } = usage as Record<string, unknown>;
  return rest;
}

describe("the prompt cache on real llama-servers", () => {
  const prefix = `fleetgate-e2e-cache-${randomUUID()}:`;
  const redisUrl = testRedisUrl();
  let fleet: LlamaFleet;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let replicas: RunningGateway[] = [];
  let direct: OpenAI;
  let client: OpenAI;

  beforeAll(async () => {
    fleet = await startLlamaFleet(1, { slots: 4, ctxSize: 4096 });
    proxy = await countingProxy(fleet.nodes[0]!.url);
    const config = buildConfig({
      server: { host: "127.0.0.1", port: 0 },
      health: { interval_ms: 200 },
      store: { redis_url: redisUrl, key_prefix: prefix },
      auth: { keys: [{ id: "e2e", tenant: "e2e", key: KEY }] },
      nodes: [{ id: "node-0", url: proxy.url }],
    });
    replicas = await Promise.all([startGateway(config, silentLogger), startGateway(config, silentLogger)]);
    direct = new OpenAI({ baseURL: `${fleet.nodes[0]!.url}/v1`, apiKey: "none", maxRetries: 0 });
    client = new OpenAI({ baseURL: `${replicas[0]!.url}/v1`, apiKey: KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    proxy?.server.close();
    await fleet?.stop();
    await clearRedisPrefix(redisUrl, prefix);
  });

  const ask = (tag: string) => ({
    model: TINY_MODEL_ALIAS,
    messages: [{ role: "user" as const, content: `${tag} ${randomUUID()}: tell me a story.` }],
    temperature: 0,
    max_tokens: 16,
  });

  it("sends 10 concurrent identical requests across two replicas to the node once", async () => {
    const body = ask("flight");
    const before = proxy.completions();
    const answers = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const response = await fetch(`${replicas[i % 2]!.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
          body: JSON.stringify(body),
        });
        expect(response.status).toBe(200);
        const json = (await response.json()) as { choices: { message: { content: string } }[] };
        return { cache: response.headers.get("x-fleetgate-cache"), text: json.choices[0]!.message.content };
      }),
    );
    expect(proxy.completions() - before).toBe(1);
    expect(answers.map((answer) => answer.cache).sort()).toEqual([...Array(9).fill("hit"), "miss"]);
    expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
  });

  it("gives the SDK a non-streamed hit field by field as the node's own answer", async () => {
    const body = ask("json");
    const live = await direct.chat.completions.create(body);
    await client.chat.completions.create(body);
    const before = proxy.completions();
    const { data: hit, response } = await client.chat.completions.create(body).withResponse();
    expect(response.headers.get("x-fleetgate-cache")).toBe("hit");
    expect(proxy.completions()).toBe(before);
    expect(shapeDiff(live, hit, { mayOmit: [".timings"] })).toEqual([]);
    expect(hit.object).toBe(live.object);
    expect(hit.model).toBe(live.model);
    expect(hit.system_fingerprint).toBe(live.system_fingerprint);
    expect(hit.choices).toEqual(live.choices);
    expect(counts(hit.usage)).toEqual(counts(live.usage));
    expect(hit.id).not.toBe(live.id);
  });

  it("streams a hit to the SDK chunk by chunk as the node streams, whichever kind filled it", async () => {
    for (const fillStreamed of [false, true]) {
      const body = ask(fillStreamed ? "stream-filled" : "json-filled");
      const streamed = { ...body, stream: true as const, stream_options: { include_usage: true } };
      const live = await collect(await direct.chat.completions.create(streamed));
      if (fillStreamed) await collect(await client.chat.completions.create(streamed));
      else await client.chat.completions.create(body);
      const before = proxy.completions();
      const { data, response } = await client.chat.completions.create(streamed).withResponse();
      expect(response.headers.get("x-fleetgate-cache")).toBe("hit");
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      const hit = await collect(data);
      expect(proxy.completions()).toBe(before);
      const text = (chunks: Chunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
      expect(text(hit)).toBe(text(live));
      expect(hit[0]?.choices[0]?.delta).toEqual(live[0]?.choices[0]?.delta);
      expect(hit.filter((chunk) => chunk.choices[0]?.delta.content).length).toBeGreaterThan(1);
      const finish = (chunks: Chunk[]) => chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0];
      expect(finish(hit)).toEqual(finish(live));
      expect(hit.at(-1)?.choices).toEqual([]);
      expect(counts(hit.at(-1)?.usage)).toEqual(counts(live.at(-1)?.usage));
      // Every chunk has the shape of the node's chunk of the same kind (role, content, finish, usage).
      const twins = new Map(live.map((chunk) => [kindOf(chunk), chunk]));
      for (const chunk of hit) {
        expect(shapeDiff(twins.get(kindOf(chunk)), chunk, { mayOmit: [".timings"] })).toEqual([]);
      }
    }
  });
});
