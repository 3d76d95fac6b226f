/**
 * Fault benchmark: the same seeded open-loop workload (chat and completions, streamed or not)
 * through a gateway with default-ish resilience settings over three sim nodes, once fault-free and
 * once per fault of node-0. Reports success rate, latency percentiles, continued streams and when
 * node-0's breaker opened; writes bench/results/faults.json and faults.md.
 * Run: npm run bench:faults [-- --duration-ms 18000 --rate 8 --seed 7 --only baseline,killed]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { consoleTable, markdownTable, reasonsList, type ScenarioSummary, summarise } from "./report.js";
import { BENCH_CONFIG, type RunSettings, runScenario } from "./run.js";
import { SCENARIOS } from "./scenarios.js";

const { values: args } = parseArgs({
  options: {
    "duration-ms": { type: "string", default: "18000" },
    "onset-ms": { type: "string", default: "3000" },
    rate: { type: "string", default: "8" },
    seed: { type: "string", default: "7" },
    "max-tokens": { type: "string", default: "24" },
    only: { type: "string" },
    out: { type: "string", default: "bench/results" },
  },
});

function positive(name: string, value: string | undefined): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number`);
  return parsed;
}

const settings: RunSettings = {
  durationMs: positive("duration-ms", args["duration-ms"]),
  onsetMs: positive("onset-ms", args["onset-ms"]),
  ratePerSecond: positive("rate", args.rate),
  seed: positive("seed", args.seed),
  maxTokens: positive("max-tokens", args["max-tokens"]),
};
const only = args.only?.split(",").map((name) => name.trim());
const chosen = SCENARIOS.filter((scenario) => !only || only.includes(scenario.name));
if (chosen.length === 0)
  throw new Error(`--only matched none of: ${SCENARIOS.map((s) => s.name).join(", ")}`);

const summaries: ScenarioSummary[] = [];
const started = performance.now();
for (const scenario of chosen) {
  const run = await runScenario(scenario, settings);
  const summary = summarise(run);
  summaries.push(summary);
  console.log(
    `${scenario.name}: ${(summary.successRate * 100).toFixed(1)}% ok, ${summary.violations} violations (${Math.round(run.wallMs / 1000)} s)`,
  );
}
const wallSeconds = Math.round((performance.now() - started) / 1000);
console.log(`\n${consoleTable(summaries)}\n`);

const result = {
  generatedAt: new Date().toISOString(),
  node: process.version,
  settings,
  gatewayConfig: BENCH_CONFIG,
  fleet: "3 sim nodes (4 slots, 40 ms TTFT, 60 tokens/s); node-0 faulty from the onset",
  wallSeconds,
  scenarios: summaries,
};
mkdirSync(args.out, { recursive: true });
writeFileSync(`${args.out}/faults.json`, `${JSON.stringify(result, null, 2)}\n`);
const markdown = [
  "# Fault benchmark",
  "",
  `\`npm run bench:faults\`, ${result.generatedAt}, Node ${process.version}, ${wallSeconds} s.`,
  `Open-loop seeded workload at ${settings.ratePerSecond} req/s for ${settings.durationMs / 1000} s ` +
    `(75% chat, 25% completions, about half streamed, max_tokens ${settings.maxTokens}) over ${result.fleet}, ` +
    `at ${settings.onsetMs / 1000} s. Figures cover the requests sent from the onset on.`,
  "Gateway: defaults (latency routing, breakers 50% / 5 calls / 10 s window / 5 s reset, retry budget, " +
    "continuation) except ttft_timeout_ms and idle_timeout_ms 2000, response_timeout_ms 4000, request_timeout_ms 10000.",
  "",
  markdownTable(summaries),
  "",
  "*success*: a complete answer (valid JSON, or a stream with content, finish_reason and [DONE] under one chunk id); " +
    "*explicit error*: an error envelope or a final SSE error event; *violation*: anything else. " +
    "*continued*: chat streams carrying chunks the gateway wrote itself (continuation on another node). " +
    "*node-0 attempts*: completion requests node-0 received from the onset on (a killed node receives none). " +
    "*node-0 share after open*: answers whose x-fleetgate-node is node-0 among requests sent after its breaker opened.",
  "",
  "Errors and violations by reason:",
  "",
  reasonsList(summaries) || "- none",
  "",
].join("\n");
writeFileSync(`${args.out}/faults.md`, markdown);
console.log(`wrote ${args.out}/faults.json and ${args.out}/faults.md`);
