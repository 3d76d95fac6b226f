/**
 * fleetgate in front of three real llama-servers, spoken to with the official openai SDK (and raw
 * fetch where the bytes matter): what an app that switched its base URL would see, including a node
 * crashing under load.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type E2eGateway,
  freshMessages,
  nodeSlots,
  postChat,
  readStream,
  type StreamOutcome,
  startE2eGateway,
  waitFor,
} from "./gateway-fleet.js";
import { type LlamaNode, startLlamaNode, TINY_MODEL_ALIAS } from "./llama-harness.js";

const timingsSchema = z.object({
  cache_n: z.number().int(),
  prompt_n: z.number().int(),
  predicted_n: z.number().int(),
  predicted_per_second: z.number(),
});
const withTimings = z.object({ timings: timingsSchema });

// A random-weight model can sample end-of-sequence at any step; long generations must not end early.
const LONG = { max_tokens: 3000, ignore_eos: true } as const;

let nodes: LlamaNode[] = [];
let gw: E2eGateway;

beforeAll(async () => {
  // node-0 has two slots and the others one, so capacity read from the nodes is tellable apart.
  nodes = await Promise.all([2, 1, 1].map((slots, index) => startLlamaNode({ index, slots, ctxSize: 8192 })));
  gw = await startE2eGateway(nodes.map((node) => node.url));
  await waitFor(async () => (await gw.adminNodes()).every((n) => n.state === "healthy"), 10_000);
});
afterAll(async () => {
  await gw?.close();
  await Promise.all(nodes.map((node) => node.stop()));
});

const nodeById = (id: string | null) => nodes[Number(id?.replace("node-", "") ?? Number.NaN)];

describe("chat through the gateway with the openai SDK", () => {
  it("answers non-streamed with usage and llama.cpp timings intact", async () => {
    const { data, response } = await gw.client.chat.completions
      .create({ model: TINY_MODEL_ALIAS, messages: freshMessages("plain"), max_tokens: 12 })
      .withResponse();
    expect(response.headers.get("x-fleetgate-node")).toMatch(/^node-[0-2]$/);
    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe(TINY_MODEL_ALIAS);
    expect(data.choices[0]?.message.role).toBe("assistant");
    const usage = data.usage;
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    const { timings } = withTimings.parse(data);
    expect(timings.predicted_n).toBe(usage?.completion_tokens);
    expect(timings.prompt_n + timings.cache_n).toBe(usage?.prompt_tokens);
  });

  it("streams: role first, then content, a finish reason, and usage with timings last", async () => {
    const stream = await gw.client.chat.completions.create({
      model: TINY_MODEL_ALIAS,
      messages: freshMessages("stream"),
      max_tokens: 16,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text.length).toBeGreaterThan(0);
    const finishes = chunks.flatMap((c) => (c.choices[0]?.finish_reason ? [c.choices[0].finish_reason] : []));
    expect(finishes).toHaveLength(1);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBeLessThanOrEqual(16);
    if (finishes[0] === "length") expect(last?.usage?.completion_tokens).toBe(16);
    expect(withTimings.parse(last).timings.predicted_n).toBe(last?.usage?.completion_tokens);
  });

  it("lists the model the fleet serves", async () => {
    const models = [];
    for await (const model of gw.client.models.list()) models.push(model.id);
    expect(models).toEqual([TINY_MODEL_ALIAS]);
  });

  it("answers the same conversation from the node's prompt cache the second time", async () => {
    const system = `You are the fleet's archivist. ${"Remember every request, node and token. ".repeat(40)}`;
    const messages = [{ role: "system" as const, content: system }, ...freshMessages("cached")];
    const ask = () =>
      gw.client.chat.completions.create({ model: TINY_MODEL_ALIAS, messages, max_tokens: 4 }).withResponse();
    const first = await ask();
    const second = await ask();
    expect(second.response.headers.get("x-fleetgate-node")).toBe(
      first.response.headers.get("x-fleetgate-node"),
    );
    const prompt = second.data.usage?.prompt_tokens ?? 0;
    expect(prompt).toBeGreaterThan(300);
    expect(first.data.usage?.prompt_tokens_details?.cached_tokens ?? 0).toBeLessThan(prompt / 2);
    expect(second.data.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThan(prompt / 2);
  });
});

describe("the registry's view of each node", () => {
  it("reads slots from /props and /slots, busy and deferred work from /slots and /metrics", async () => {
    const before = await gw.adminNodes();
    expect(before.map((n) => [n.id, n.slots_total])).toEqual([
      ["node-0", 2],
      ["node-1", 1],
      ["node-2", 1],
    ]);
    // Straight to node-1, past the gateway: whatever the registry reports comes from the node itself.
    const node = nodes[1] as LlamaNode;
    const abort = new AbortController();
    const direct = () =>
      fetch(`${node.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: freshMessages("direct"), stream: true, ...LONG }),
        signal: abort.signal,
      }).catch(() => undefined);
    const inFlight = [direct(), direct()];
    const report = async () => (await gw.adminNodes()).find((n) => n.id === "node-1");
    const loaded = await waitFor(async () => {
      const n = await report();
      return n?.slots_busy === 1 && n.deferred === 1;
    }, 3000);
    abort.abort();
    await Promise.all(inFlight);
    expect(loaded, "node-1 reported 1 busy slot and 1 deferred request").toBeDefined();
    expect((await report())?.in_flight).toBe(0);
    const drained = await waitFor(async () => {
      const n = await report();
      return n?.slots_busy === 0 && n.deferred === 0;
    }, 3000);
    expect(drained, "node-1 reported idle again").toBeDefined();
  });
});

describe("a client that goes away", () => {
  it("frees the node's slot within a second of aborting a stream", async () => {
    const abort = new AbortController();
    const response = await postChat(
      gw.baseURL,
      { model: TINY_MODEL_ALIAS, messages: freshMessages("abort"), stream: true, ...LONG },
      abort.signal,
    );
    const node = nodeById(response.headers.get("x-fleetgate-node")) as LlamaNode;
    // Read a few events without cancelling the body: a cancel is itself a disconnect, and would free
    // the slot before the check below could see it busy.
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    for (let events = 0; events < 3; ) {
      const { done, value } = await reader.read();
      if (done) break;
      events += new TextDecoder().decode(value).split("data: ").length - 1;
    }
    const busyBeforeAbort = (await nodeSlots(node.url)).some((slot) => slot.is_processing);
    abort.abort();
    const idleAfterMs = await waitFor(
      async () => (await nodeSlots(node.url)).every((slot) => !slot.is_processing),
      1000,
      10,
    );
    expect(busyBeforeAbort).toBe(true);
    expect(idleAfterMs, "slot idle within 1 s of the abort").toBeDefined();
  });
});

describe("a node killed under load", () => {
  it("fails requests over before their first byte, continues cut streams elsewhere, then avoids the node", async () => {
    const streams = Array.from({ length: 3 }, (_, i) => openStream(`kill-stream-${i}`));
    const plain = Array.from({ length: 6 }, (_, i) => ask(`kill-plain-${i}`, 150));
    // Kill the node that is streaming to a client right now, so a stream is cut for sure.
    const victimId = await Promise.race(streams.map((s) => s.started));
    const victim = nodeById(victimId) as LlamaNode;
    await victim.kill();
    const afterKill = Array.from({ length: 3 }, (_, i) => ask(`kill-after-${i}`, 20));

    // The SDK throws on any non-2xx answer, so reaching here means every request succeeded.
    for (const result of await Promise.all([...plain, ...afterKill])) {
      expect(result.status).toBe(200);
      expect(result.tokens).toBeGreaterThan(0);
    }
    const finished = await Promise.all(streams.map((s) => s.finished));
    const endings = finished.map(
      ({ node, outcome }) => `${node}:${outcome.done ? "done" : outcome.error?.code}`,
    );
    process.stderr.write(`[gateway-e2e] killed ${victimId}; streams ended ${endings.join(" ")}\n`);
    for (const { outcome, node } of finished) {
      expect(outcome.transportError).toBeUndefined();
      // The stream cut by the kill is continued on a surviving node: every client gets a whole answer.
      const ended = outcome.done ? "completed" : outcome.error?.code;
      expect(ended, `stream from ${node}`).toBe("completed");
    }

    const out = await waitFor(
      async () => (await gw.adminNodes()).find((n) => n.id === victimId)?.state !== "healthy",
      3000,
    );
    expect(out, `${victimId} taken out of rotation`).toBeDefined();
    const later = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(`survivor-${i}`, 4)));
    expect(later.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(later.map((r) => r.node)).not.toContain(victimId);
  });
});

async function ask(tag: string, maxTokens: number) {
  const { data, response } = await gw.client.chat.completions
    .create({ model: TINY_MODEL_ALIAS, messages: freshMessages(tag), max_tokens: maxTokens })
    .withResponse();
  return {
    status: response.status,
    node: response.headers.get("x-fleetgate-node"),
    tokens: data.usage?.completion_tokens,
  };
}

function openStream(tag: string) {
  let markStarted: (node: string) => void = () => undefined;
  const started = new Promise<string>((resolve) => {
    markStarted = resolve;
  });
  const finished = (async (): Promise<{ outcome: StreamOutcome; node: string | null }> => {
    const response = await postChat(gw.baseURL, {
      model: TINY_MODEL_ALIAS,
      messages: freshMessages(tag),
      stream: true,
      ...LONG,
    });
    const node = response.headers.get("x-fleetgate-node");
    const outcome = await readStream(response, (_event, index) => {
      if (index === 3 && node) markStarted(node);
      return true;
    });
    return { outcome, node };
  })();
  return { started, finished };
}
