/**
 * How good the quota stage's prompt estimate is: cl100k_base counts (and the old four-characters
 * rule) against a real llama-server's exact `prompt_tokens`, over prose, code, JSON, numbers, other
 * languages and multi-turn chats; raw, and after the per-model calibration has seen half of them.
 * Also the CPU cost of one count. Usage: `npm run bench:estimate [-- --no-write]`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, homedir } from "node:os";
import { ENCODING, estimateChatTokens, PromptCalibration, TokenCounter } from "../src/accounting/index.js";
import {
  DEFAULT_TINY_MODEL_SEED,
  ensureLlamaServerBinary,
  ensureLlamaSource,
  ensureTinyModelFile,
  resolveCacheDir,
  startLlamaServer,
  tinyModelPath,
} from "../src/llama/index.js";
import { freePort } from "../test/support/ports.js";

type Message = { role: "system" | "user" | "assistant"; content: string };

const TEXTS = [
  "What is the capital of France? Answer in one sentence.",
  "Summarise the plot of Hamlet for a ten-year-old, in three short paragraphs, without spoilers about the ending.",
  "function add(a: number, b: number): number {\n  return a + b;\n}\n// Why does this return NaN for add(1)?",
  '{"user":{"id":12345,"name":"Ada","roles":["admin","ops"],"last_login":"2026-11-30T12:00:00Z"}} Explain this JSON.',
  "Compute 1234567 * 7654321 and 99999999999 / 3.14159, showing each step with every digit.",
  "Schreibe eine kurze Geschichte über einen Leuchtturmwärter, der jeden Abend mit den Möwen spricht.",
  "请用三句话解释什么是负载均衡，以及为什么推理网关需要它。",
  "Écris un poème de quatre vers sur la pluie à Paris en automne.",
  "SELECT u.id, count(o.id) FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id HAVING count(o.id) > 3;",
  "List ten prime numbers greater than 1000, comma separated, then explain how you checked them.",
];
const SYSTEMS = [
  undefined,
  "You are a helpful assistant.",
  "You are a terse senior engineer. Answer with code only.",
];

function conversations(): Message[][] {
  const all: Message[][] = [];
  TEXTS.forEach((text, i) => {
    for (const [s, system] of SYSTEMS.entries()) {
      const messages: Message[] = system ? [{ role: "system", content: system }] : [];
      messages.push({ role: "user", content: text });
      // Every other conversation runs a few turns, as agents and chat apps do.
      if ((i + s) % 2 === 1) {
        messages.push({ role: "assistant", content: TEXTS[(i + 3) % TEXTS.length] as string });
        messages.push({ role: "user", content: TEXTS[(i + 5) % TEXTS.length] as string });
      }
      all.push(messages);
    }
  });
  return all;
}

interface ErrorStats {
  readonly meanAbsPct: number;
  readonly p95AbsPct: number;
  readonly maxAbsPct: number;
  readonly biasPct: number;
}

function stats(pairs: readonly { estimate: number; exact: number }[]): ErrorStats {
  const errors = pairs.map(({ estimate, exact }) => (100 * (estimate - exact)) / exact);
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    meanAbsPct: round(abs.reduce((a, b) => a + b, 0) / abs.length),
    p95AbsPct: round(abs[Math.min(abs.length - 1, Math.floor(abs.length * 0.95))] ?? 0),
    maxAbsPct: round(abs.at(-1) ?? 0),
    biasPct: round(errors.reduce((a, b) => a + b, 0) / errors.length),
  };
}

function cpuMicros(run: () => void, times: number): number {
  run();
  const start = process.cpuUsage();
  for (let i = 0; i < times; i++) run();
  const used = process.cpuUsage(start);
  return Math.round(((used.user + used.system) / times) * 10) / 10;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const cacheDir = resolveCacheDir(process.env.FLEETGATE_CACHE_DIR, homedir());
const binary = (await ensureLlamaServerBinary({ cacheDir, cuda: "off", log })).binary;
const source = await ensureLlamaSource(cacheDir, log);
const model = (await ensureTinyModelFile(source.vocabPath, tinyModelPath(cacheDir, DEFAULT_TINY_MODEL_SEED)))
  .path;
const server = await startLlamaServer({
  binary,
  model,
  port: await freePort(),
  slots: 1,
  ctxSize: 4096,
  threads: 1,
});
try {
  const counter = new TokenCounter();
  const initStart = performance.now();
  counter.warm();
  const initMs = Math.round(performance.now() - initStart);
  const samples: { messages: Message[]; exact: number; counted: number; chars: number }[] = [];
  for (const messages of conversations()) {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages, max_tokens: 1 }),
    });
    const usage = ((await response.json()) as { usage: { prompt_tokens: number } }).usage;
    samples.push({
      messages,
      exact: usage.prompt_tokens,
      counted: counter.chat(messages),
      chars: estimateChatTokens(messages),
    });
  }
  // Calibration learns from the first half, as a gateway learns from settled calls, and is judged on the rest.
  const calibration = new PromptCalibration();
  const half = Math.floor(samples.length / 2);
  for (const sample of samples.slice(0, half)) calibration.learn("tiny", sample.counted, sample.exact);
  const held = samples.slice(half);
  const result = {
    encoding: ENCODING,
    model: "tiny (random weights, llama.cpp's bundled vocabulary)",
    requests: samples.length,
    exactPromptTokens: {
      min: Math.min(...samples.map((s) => s.exact)),
      max: Math.max(...samples.map((s) => s.exact)),
    },
    cl100k: stats(samples.map((s) => ({ estimate: s.counted, exact: s.exact }))),
    cl100kCalibrated: stats(
      held.map((s) => ({ estimate: calibration.scale("tiny", s.counted), exact: s.exact })),
    ),
    fourCharsPerToken: stats(samples.map((s) => ({ estimate: s.chars, exact: s.exact }))),
    cpuMicrosPerCount: {
      shortChat: cpuMicros(() => counter.chat(samples[0]?.messages ?? []), 2000),
      multiTurnChat: cpuMicros(
        () => counter.chat(samples.find((s) => s.messages.length > 2)?.messages ?? []),
        2000,
      ),
    },
    encoderLoadMs: initMs,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}`,
  };
  console.log(
    `prompt estimate vs llama-server's prompt_tokens, ${result.requests} chats (${result.exactPromptTokens.min}-${result.exactPromptTokens.max} tokens)`,
  );
  console.log("| estimate | mean |error| | p95 |error| | max |error| | bias |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const [name, s] of [
    [`${ENCODING}`, result.cl100k],
    [`${ENCODING}, calibrated (held-out half)`, result.cl100kCalibrated],
    ["4 characters per token", result.fourCharsPerToken],
  ] as const) {
    console.log(
      `| ${name} | ${s.meanAbsPct}% | ${s.p95AbsPct}% | ${s.maxAbsPct}% | ${s.biasPct > 0 ? "+" : ""}${s.biasPct}% |`,
    );
  }
  console.log(
    `CPU per count: ${result.cpuMicrosPerCount.shortChat} µs (short chat), ${result.cpuMicrosPerCount.multiTurnChat} µs (multi-turn); encoder load ${initMs} ms`,
  );
  if (!process.argv.includes("--no-write")) {
    mkdirSync("bench/results", { recursive: true });
    writeFileSync("bench/results/estimate.json", `${JSON.stringify(result, null, 2)}\n`);
  }
} finally {
  await server.stop();
}
