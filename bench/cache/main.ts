/**
 * The prompt cache's hit path against the node it saves, in one run: a real llama-server (the tiny
 * model; `--sim` for the simulated node) asked directly, and fleetgate answering the same request from
 * its cache, non-streamed and streamed. Then what the cache stage costs the calls it does not answer,
 * against the instant upstream of bench:overhead: the same gateway with the cache on and off, loaded
 * request by request in turn (paired), for bypassed requests and for misses that fill.
 * Run: npm run bench:cache [-- --sim] [-- --seconds N]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { Pool } from "undici";
import { buildGateway } from "../overhead/build-gateway.js";
import {
  type Child,
  cpuMicros,
  LOAD_CORE,
  PINNING,
  PROXY_CORE,
  readyLine,
  spawnNode,
} from "../overhead/processes.js";
import { percentile } from "../overhead/stats.js";
import { cacheMicros } from "./micro.js";

const args = process.argv.slice(2);
const useSim = args.includes("--sim");
const seconds = Number(args[args.indexOf("--seconds") + 1]) || 5;
const CONCURRENCY = 8;
/** What to stop when the run ends: child processes and the node. */
const stoppers: (() => Promise<unknown>)[] = [];
const progress = (line: string) => console.error(`  ${line}`);

interface Measured {
  readonly name: string;
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** The gateway process's CPU time per request (paired runs only): robust to a busy machine. */
  readonly cpuUsPerRequest?: number;
}

interface Gateway {
  readonly url: string;
  readonly pid: number;
}

type Body = () => { body: string; headers?: Record<string, string> };

/** One request: its latency to the last body byte, in ms; throws unless it got a 200. */
async function once(pool: Pool, path: string, make: Body): Promise<number> {
  const { body, headers } = make();
  const started = performance.now();
  const res = await pool.request({
    method: "POST",
    path,
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  await res.body.arrayBuffer();
  if (res.statusCode !== 200) throw new Error(`${path}: status ${res.statusCode}`);
  return performance.now() - started;
}

/** Closed loop: `CONCURRENCY` workers, each sending the next request when the last is answered. */
async function closedLoop(name: string, url: string, make: Body, ms = seconds * 1000): Promise<Measured> {
  const pool = new Pool(url, { connections: CONCURRENCY });
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() - started < ms) latencies.push(await once(pool, "/v1/chat/completions", make));
    }),
  );
  const elapsed = performance.now() - started;
  await pool.close();
  return summary(name, latencies, elapsed);
}

/** Two targets loaded at once, each worker alternating between them, so both see the same moments. */
async function pairedLoop(
  names: [string, string],
  gateways: [Gateway, Gateway],
  make: Body,
): Promise<Measured[]> {
  const pools = gateways.map(({ url }) => new Pool(url, { connections: CONCURRENCY }));
  const cpuBefore = gateways.map(({ pid }) => cpuMicros([pid]));
  const latencies: number[][] = [[], []];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (let turn = worker; performance.now() - started < seconds * 1000; turn++) {
        const side = turn % 2;
        latencies[side]!.push(await once(pools[side]!, "/v1/chat/completions", make));
      }
    }),
  );
  const elapsed = performance.now() - started;
  const cpu = gateways.map(({ pid }, side) => cpuMicros([pid]) - cpuBefore[side]!);
  await Promise.all(pools.map((pool) => pool.close()));
  return names.map((name, side) => ({
    ...summary(name, latencies[side]!, elapsed),
    cpuUsPerRequest: cpu[side]! / latencies[side]!.length,
  }));
}

function summary(name: string, latencies: number[], elapsedMs: number): Measured {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    name,
    requests: sorted.length,
    rps: (sorted.length / elapsedMs) * 1000,
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    p99Ms: percentile(sorted, 99),
  };
}

async function startChild(child: Child): Promise<Gateway> {
  stoppers.push(() => child.stop());
  return { url: (await readyLine<{ url: string }>(child)).url, pid: child.pid };
}

/** The node whose work a hit saves: a real llama-server with the tiny model, or the simulated one. */
async function startNode(): Promise<{ url: string; model: string; label: string }> {
  if (useSim) {
    const { startSimNode } = await import("../../src/sim/index.js");
    const sim = await startSimNode({ model: "tiny" });
    return { url: sim.url, model: "tiny", label: "simulated llama-server (defaults)" };
  }
  const harness = await import("../../test/e2e/llama-harness.js");
  const node = await harness.startLlamaNode({ slots: 4, ctxSize: 4096 });
  stoppers.push(() => node.stop());
  return { url: node.url, model: harness.TINY_MODEL_ALIAS, label: "llama-server, tiny model, 1 thread" };
}

function row(m: Measured): string {
  const f = (n: number) => n.toFixed(2).padStart(9);
  const cpu = m.cpuUsPerRequest === undefined ? "" : m.cpuUsPerRequest.toFixed(0).padStart(10);
  return `${m.name.padEnd(34)}${String(m.requests).padStart(8)}${m.rps.toFixed(0).padStart(9)}${f(m.p50Ms)}${f(m.p95Ms)}${f(m.p99Ms)}${cpu}`;
}

async function main(): Promise<void> {
  const notes = [`load average at start: ${loadavg()[0]?.toFixed(2)} on ${availableParallelism()} cores`];
  const node = await startNode();
  progress(`node: ${node.label} at ${node.url}`);
  const entry = buildGateway();
  const gateway = (extra: string[], upstreamUrl: string) =>
    startChild(spawnNode(entry, [upstreamUrl, ...extra], { core: PROXY_CORE, compiled: true }));
  const { url: cached } = await gateway([], node.url);
  const question = JSON.stringify({
    model: node.model,
    messages: [{ role: "user", content: "Tell me a story about a lighthouse keeper." }],
    temperature: 0,
    max_tokens: 16,
  });
  const streamed = JSON.stringify({ ...JSON.parse(question), stream: true });
  const same: Body = () => ({ body: question });
  // Fill the entry, and let the node's slot cache warm so that "direct" is the node at its fastest.
  await closedLoop("warm-up direct", node.url, same, 1000);
  await closedLoop("warm-up hit", cached, same, 1000);

  progress("hit path against the node, one after the other, twice");
  const hits: Measured[] = [];
  for (let rep = 0; rep < 2; rep++) {
    hits.push(await closedLoop(`direct node (rep ${rep + 1})`, node.url, same));
    hits.push(await closedLoop(`fleetgate hit, JSON (rep ${rep + 1})`, cached, same));
    hits.push(await closedLoop(`fleetgate hit, SSE (rep ${rep + 1})`, cached, () => ({ body: streamed })));
  }

  progress("cache stage on and off, paired, against the instant upstream");
  const { url: upstream } = await startChild(
    spawnNode(new URL("../overhead/upstream.ts", import.meta.url), [], { core: LOAD_CORE }),
  );
  const on = await gateway([], upstream);
  const off = await gateway(["--cache-off"], upstream);
  const bypassBody = JSON.stringify({
    model: "bench",
    messages: [{ role: "user", content: "Say hi" }],
    max_tokens: 16,
  });
  let counter = 0;
  const missBody: Body = () => ({
    body: JSON.stringify({
      model: "bench",
      messages: [{ role: "user", content: `Say hi ${counter++}` }],
      temperature: 0,
      max_tokens: 16,
    }),
  });
  await pairedLoop(["warm-up on", "warm-up off"], [on, off], () => ({ body: bypassBody }));
  const stage = [
    ...(await pairedLoop(["cache on, bypass", "cache off, same request"], [on, off], () => ({
      body: bypassBody,
    }))),
    ...(await pairedLoop(["cache on, miss + fill", "cache off, same request"], [on, off], missBody)),
  ];

  progress("the cache's own CPU per call, in process");
  const micro = await cacheMicros();

  const header = `${"target".padEnd(34)}${"requests".padStart(8)}${"rps".padStart(9)}${"p50 ms".padStart(9)}${"p95 ms".padStart(9)}${"p99 ms".padStart(9)}`;
  console.log(`\nhit path (closed loop, ${CONCURRENCY} concurrent, ${seconds} s each; node: ${node.label})`);
  console.log(header);
  for (const m of hits) console.log(row(m));
  console.log(`\ncache stage on vs off (paired closed loop, ${CONCURRENCY} concurrent, instant upstream)`);
  console.log(`${header}${"CPU-µs/req".padStart(10)}`);
  for (const m of stage) console.log(row(m));
  console.log("\nthe cache's own work, CPU-µs per call in process (20,000 calls each)");
  for (const m of micro) console.log(`${m.name.padEnd(34)}${m.cpuUsPerCall.toFixed(1).padStart(8)}`);
  const ratio = (a: Measured, b: Measured) => a.p50Ms / b.p50Ms;
  const cpuRatio = (a: Measured, b: Measured) => (a.cpuUsPerRequest ?? 0) / (b.cpuUsPerRequest ?? 1);
  const stageRatios = {
    bypassP50: ratio(stage[0]!, stage[1]!),
    missFillP50: ratio(stage[2]!, stage[3]!),
    bypassCpu: cpuRatio(stage[0]!, stage[1]!),
    missFillCpu: cpuRatio(stage[2]!, stage[3]!),
  };
  const directBest = Math.min(...hits.filter((m) => m.name.startsWith("direct")).map((m) => m.p50Ms));
  const hitWorst = Math.max(...hits.filter((m) => m.name.includes("hit")).map((m) => m.p50Ms));
  console.log(
    `\nhit p50 (worst of JSON/SSE) ${hitWorst.toFixed(2)} ms vs the node's best p50 ${directBest.toFixed(2)} ms: ${(directBest / hitWorst).toFixed(1)}x faster`,
  );
  console.log(
    `cache stage on/off: p50 ratio bypass ${stageRatios.bypassP50.toFixed(3)}, miss + fill ${stageRatios.missFillP50.toFixed(3)}; ` +
      `CPU-µs per request ratio bypass ${stageRatios.bypassCpu.toFixed(3)}, miss + fill ${stageRatios.missFillCpu.toFixed(3)}`,
  );
  notes.push(`pinning ${PINNING ? "on (gateways on core 0, upstreams on core 1)" : "off"}`);
  const results = new URL("../results/", import.meta.url);
  mkdirSync(results, { recursive: true });
  writeFileSync(
    new URL("cache.json", results),
    `${JSON.stringify(
      {
        command: `npm run bench:cache${args.length ? ` -- ${args.join(" ")}` : ""}`,
        measuredAt: new Date().toISOString(),
        node: process.version,
        cpu: cpus()[0]?.model ?? "unknown",
        upstream: node.label,
        concurrency: CONCURRENCY,
        seconds,
        hits,
        stage,
        stageRatios,
        micro,
        hitSpeedup: directBest / hitWorst,
        notes,
      },
      null,
      2,
    )}\n`,
  );
}

try {
  await main();
} finally {
  await Promise.all(stoppers.splice(0).map((stop) => stop()));
}
process.exit(0);
