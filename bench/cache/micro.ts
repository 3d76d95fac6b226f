/**
 * What the cache's own work costs per call, in process (CPU time over many calls, so it holds on a
 * busy machine where latencies do not): the decision for a bypassed request, a miss with its fill
 * (key, flight, recording a node's body, storing), and a hit's lookup with its JSON or SSE replay.
 */
import { freshId, PromptCache, replayBody, replayEvents } from "../../src/cache/index.js";
import { MemoryStore } from "../../src/store/index.js";

export interface MicroResult {
  readonly name: string;
  readonly cpuUsPerCall: number;
}

const ANSWER = {
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 0,
  model: "bench",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: "Once upon a time, a lighthouse keeper counted ships in the fog.",
      },
      finish_reason: "length",
    },
  ],
  usage: { prompt_tokens: 17, completion_tokens: 16, total_tokens: 33 },
  timings: { prompt_n: 17, prompt_ms: 1.2, predicted_n: 16, predicted_ms: 3.4 },
};

const signal = new AbortController().signal;

function lookup(content: string, temperature: number | undefined) {
  return {
    tenant: "bench",
    kind: "chat" as const,
    model: "bench",
    body: {
      model: "bench",
      messages: [
        { role: "system", content: "You are a helpful assistant who tells short stories." },
        { role: "user", content },
      ],
      max_tokens: 16,
      ...(temperature === undefined ? {} : { temperature }),
    },
    cacheControl: undefined,
    signal,
  };
}

async function cpuPerCall(calls: number, run: (i: number) => Promise<void>): Promise<number> {
  for (let i = 0; i < Math.min(calls, 2000); i++) await run(-1 - i);
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) await run(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

export async function cacheMicros(calls = 20_000): Promise<MicroResult[]> {
  const cache = new PromptCache(
    new MemoryStore(),
    {
      mode: "deterministic",
      ttlMs: 3_600_000,
      maxEntryBytes: 256 * 1024,
      memoryBytes: 64 * 1024 * 1024,
      singleFlightWaitMs: 30_000,
      storeRetryMs: 5000,
    },
    { fill: () => {}, storeFallback: () => {} },
  );
  const bypass = await cpuPerCall(calls, async () => {
    await cache.decide(lookup("Tell me a story.", undefined));
  });
  const miss = await cpuPerCall(calls, async (i) => {
    const decision = await cache.decide(lookup(`Tell me story number ${i}.`, 0));
    if (decision.kind !== "miss" || !decision.fill) throw new Error(`expected a miss, got ${decision.kind}`);
    decision.fill.recorder.whole(ANSWER);
    await decision.fill.finish(true);
  });
  const hitJson = await cpuPerCall(calls, async (i) => {
    const decision = await cache.decide(lookup(`Tell me story number ${i % 1000}.`, 0));
    if (decision.kind !== "hit") throw new Error(`expected a hit, got ${decision.kind}`);
    JSON.stringify(replayBody(decision.answer, freshId(decision.answer.id)));
  });
  const hitSse = await cpuPerCall(calls, async (i) => {
    const decision = await cache.decide(lookup(`Tell me story number ${i % 1000}.`, 0));
    if (decision.kind !== "hit") throw new Error(`expected a hit, got ${decision.kind}`);
    replayEvents(decision.answer, freshId(decision.answer.id), true);
  });
  return [
    { name: "bypass (decision only)", cpuUsPerCall: bypass },
    { name: "miss + fill", cpuUsPerCall: miss },
    { name: "hit, JSON body", cpuUsPerCall: hitJson },
    { name: "hit, SSE events", cpuUsPerCall: hitSse },
  ];
}
