/**
 * The usage ledger against real llama-servers: what it records per key equals, token for token, the
 * usage the clients were given, and what it records per node equals what each node itself counted
 * (its /metrics counters). Streams, plain answers, client aborts and a continued stream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import { silentLogger } from "../../src/telemetry/index.js";
import { freshMessages, readStream, waitFor } from "./gateway-fleet.js";
import { type LlamaNode, startLlamaNode, TINY_MODEL_ALIAS } from "./llama-harness.js";

const EXACT_KEY = "ledger-exact-key-0123456789";
const ABORT_KEY = "ledger-abort-key-0123456789";
const ADMIN = "ledger-admin-token-0123456789";

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}
type Row = Record<string, number | string | null>;

let nodes: LlamaNode[] = [];
let gateway: RunningGateway;

beforeAll(async () => {
  nodes = await Promise.all([0, 1, 2].map((index) => startLlamaNode({ index, slots: 2, ctxSize: 4096 })));
  gateway = await startGateway(
    buildConfig({
      server: { host: "127.0.0.1", port: 0 },
      health: { interval_ms: 100, timeout_ms: 1000, unhealthy_threshold: 2, healthy_threshold: 2 },
      nodes: nodes.map((node, i) => ({ id: `node-${i}`, url: node.url })),
      auth: {
        keys: [
          { id: "exact", tenant: "ledger", key: EXACT_KEY, limits: { tokens_per_minute: 10_000_000 } },
          { id: "aborts", tenant: "ledger", key: ABORT_KEY },
        ],
      },
      admin: { token: ADMIN },
    }),
    silentLogger,
  );
  await waitFor(async () => (await fetch(`${gateway.url}/readyz`)).ok, 10_000);
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all(nodes.map((node) => node.stop()));
});

function chat(key: string, body: object, signal?: AbortSignal): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: TINY_MODEL_ALIAS, ignore_eos: true, ...body }),
    signal,
  });
}

async function usageOf(response: Response, stream: boolean): Promise<Usage> {
  if (!stream) return ((await response.json()) as { usage: Usage }).usage;
  const outcome = await readStream(response);
  const last = outcome.events.findLast((event) => (event as { usage?: Usage }).usage) as { usage: Usage };
  return last.usage;
}

async function ledger(groupBy: string): Promise<Row[]> {
  const response = await fetch(`${gateway.url}/admin/usage?group_by=${groupBy}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  return ((await response.json()) as { data: Row[] }).data;
}

/** What a node counted itself: tokens it evaluated for prompts and tokens it generated. */
async function nodeCounters(node: LlamaNode): Promise<{ evaluated: number; predicted: number }> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const read = (name: string) =>
    Number(new RegExp(`^llamacpp:${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return { evaluated: read("prompt_tokens_total"), predicted: read("tokens_predicted_total") };
}

const sum = (usages: Usage[]) =>
  usages.reduce((total, u) => total + u.prompt_tokens + u.completion_tokens, 0);

describe("the usage ledger on real llama-servers", () => {
  it("per node, equals what each node counted itself; per key, what the clients were told", async () => {
    const before = await Promise.all(nodes.map(nodeCounters));
    const calls = Array.from({ length: 9 }, (_, i) => {
      const stream = i % 3 !== 0;
      const body = {
        messages: freshMessages(`ledger-${i}`),
        max_tokens: 8 + i,
        stream,
        // A third of the streams ask for the usage chunk; the others get none, but the node still counts.
        ...(stream && i % 3 === 1 ? { stream_options: { include_usage: true } } : {}),
      };
      return { body, stream, told: i % 3 !== 2 };
    });
    const answers = await Promise.all(
      calls.map(async (call) => {
        const response = await chat(EXACT_KEY, call.body);
        expect(response.status).toBe(200);
        if (call.told) return { call, usage: await usageOf(response, call.stream) };
        await response.text();
        return { call, usage: undefined };
      }),
    );
    await waitFor(async () => (await ledger("key")).find((row) => row.key === "exact")?.requests === 9, 3000);
    const after = await Promise.all(nodes.map(nodeCounters));
    const byNode = await ledger("node");
    for (const [i] of nodes.entries()) {
      const row = byNode.find((r) => r.node === `node-${i}`) ?? {
        prompt_tokens: 0,
        cached_tokens: 0,
        completion_tokens: 0,
      };
      const counted = {
        evaluated: (after[i]?.evaluated ?? 0) - (before[i]?.evaluated ?? 0),
        predicted: (after[i]?.predicted ?? 0) - (before[i]?.predicted ?? 0),
      };
      expect(
        {
          evaluated: Number(row.prompt_tokens) - Number(row.cached_tokens),
          predicted: Number(row.completion_tokens),
        },
        `node-${i}`,
      ).toEqual(counted);
    }
    // The calls whose clients got usage: the key's exact total is theirs plus the node-counted rest.
    const exactRow = (await ledger("key")).find((row) => row.key === "exact") as Row;
    expect(exactRow.estimated_tokens).toBe(0);
    const told = answers.flatMap((a) => (a.usage ? [a.usage] : []));
    const nodeTotal = byNode.reduce(
      (total, row) => total + Number(row.prompt_tokens) + Number(row.completion_tokens),
      0,
    );
    expect(Number(exactRow.prompt_tokens) + Number(exactRow.completion_tokens)).toBe(nodeTotal);
    expect(sum(told)).toBeLessThan(nodeTotal);
  });

  it("charges an aborted stream what was relayed, marked estimated, and never the whole reservation", async () => {
    const received: number[] = [];
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const response = await chat(
        ABORT_KEY,
        { messages: freshMessages(`abort-${i}`), max_tokens: 2000, stream: true },
        controller.signal,
      );
      let chunks = 0;
      await readStream(response, () => {
        chunks += 1;
        if (chunks === 5) controller.abort();
        return chunks < 5;
      }).catch(() => undefined);
      received.push(chunks);
    }
    expect(
      await waitFor(
        async () => (await ledger("key")).find((row) => row.key === "aborts")?.requests === 3,
        3000,
      ),
    ).toBeDefined();
    const row = (await ledger("key")).find((r) => r.key === "aborts") as Row;
    expect(Number(row.estimated_tokens)).toBe(Number(row.prompt_tokens) + Number(row.completion_tokens));
    expect(Number(row.completion_tokens)).toBeGreaterThanOrEqual(received.reduce((a, b) => a + b, 0) - 3);
    expect(Number(row.completion_tokens)).toBeLessThan(3 * 2000);
    expect(row.errors).toBe(0);
  });

  it("charges a continued stream once: the usage its client got, the original prompt and every token", async () => {
    const before = (await ledger("key")).find((row) => row.key === "exact") as Row;
    const response = await chat(EXACT_KEY, {
      messages: freshMessages("continued"),
      max_tokens: 400,
      stream: true,
      stream_options: { include_usage: true },
    });
    const node = response.headers.get("x-fleetgate-node");
    const victim = nodes[Number(node?.replace("node-", ""))] as LlamaNode;
    let killed = false;
    const outcome = await readStream(response, (_event, index) => {
      if (index === 20 && !killed) {
        killed = true;
        void victim.kill("SIGKILL");
      }
      return true;
    });
    expect(outcome.done).toBe(true);
    const usage = (outcome.events.findLast((event) => (event as { usage?: Usage }).usage) as { usage: Usage })
      .usage;
    expect(usage.completion_tokens).toBe(400);
    await waitFor(
      async () =>
        (await ledger("key")).find((row) => row.key === "exact")?.requests === Number(before.requests) + 1,
      3000,
    );
    const after = (await ledger("key")).find((row) => row.key === "exact") as Row;
    const charged =
      Number(after.prompt_tokens) +
      Number(after.completion_tokens) -
      (Number(before.prompt_tokens) + Number(before.completion_tokens));
    expect(charged).toBe(usage.prompt_tokens + usage.completion_tokens);
    expect(Number(after.estimated_tokens) - Number(before.estimated_tokens)).toBe(charged);
  }, 60_000);
});
