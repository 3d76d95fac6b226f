/**
 * Proxy overhead, side by side against one fast local upstream: direct, through fleetgate, and through
 * nginx when installed. Every process is separate: the proxy under test on core 0, the load
 * generator and upstream on core 1 (taskset), so the proxy's CPU time and RSS come from /proc.
 * Run: npm run bench:overhead [-- --quick | --profile | --help]
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildGateway } from "./build-gateway.js";
import { nginxVersion, startNginx } from "./nginx.js";
import { type BenchOptions, readOptions } from "./options.js";
import { LoadClient, Phases, type Target } from "./phases.js";
import {
  type Child,
  LOAD_CORE,
  openFilesLimit,
  PINNING,
  PROXY_CORE,
  processTree,
  readyLine,
  spawnNode,
} from "./processes.js";
import { printSummary, summarise } from "./profile.js";
import type { LatencyResult } from "./protocol.js";
import { buildRows, markdown, printTable, type RunInfo, telemetryNote } from "./report.js";

const options = readOptions(process.argv.slice(2));
const children: Child[] = [];
const progress = (line: string) => console.error(`  ${line}`);
const here = (file: string) => new URL(file, import.meta.url);

async function stopAll(): Promise<void> {
  await Promise.all(children.splice(0).map((child) => child.stop()));
}

process.once("SIGINT", () => {
  void stopAll().then(() => process.exit(130));
});

async function startNode(
  script: URL,
  args: string[],
  core: number,
  nodeFlags: string[] = [],
  compiled = false,
) {
  const child = spawnNode(script, args, { core, nodeFlags, compiled });
  children.push(child);
  const { url } = await readyLine<{ url: string }>(child);
  return { child, url };
}

async function startTargets(upstreamUrl: string, profileDir: string | undefined, notes: string[]) {
  // A finer sampling interval than the 1 ms default: a request costs only a few hundred µs.
  const flags = profileDir ? ["--cpu-prof", "--cpu-prof-interval", "200", "--cpu-prof-dir", profileDir] : [];
  const entry = buildGateway();
  const gateway = await startNode(entry, [upstreamUrl], PROXY_CORE, flags, true);
  const targets: Target[] = [
    { name: "direct", url: upstreamUrl, pids: () => [] },
    { name: "fleetgate", url: gateway.url, pids: () => [gateway.child.pid] },
  ];
  if (!profileDir) {
    // The same gateway with API keys on: the authenticate stage's cost is the difference.
    const authed = await startNode(entry, [upstreamUrl, "--auth"], PROXY_CORE, [], true);
    targets.push({ name: "fleetgate+auth", url: authed.url, pids: () => [authed.child.pid] });
    // The keyed gateway with its shared state in Redis, as replicas run it; then the same with request
    // and token limits: the quota stage's reserve and settle round trips are the difference.
    const shared = await startNode(
      entry,
      [upstreamUrl, "--auth", `--redis=${options.redisUrl}`],
      PROXY_CORE,
      [],
      true,
    );
    targets.push({ name: "fleetgate+redis", url: shared.url, pids: () => [shared.child.pid] });
    const limited = await startNode(
      entry,
      [upstreamUrl, `--redis=${options.redisUrl}`, "--quotas"],
      PROXY_CORE,
      [],
      true,
    );
    targets.push({ name: "fleetgate+quotas", url: limited.url, pids: () => [limited.child.pid] });
    // And with telemetry on: what metrics, the access log and trace export cost on top.
    const otlp = options.traceRatio === undefined ? [] : [`--otlp=${options.traceRatio}`];
    const observed = await startNode(entry, [upstreamUrl, "--telemetry", ...otlp], PROXY_CORE, [], true);
    targets.push({ name: "fleetgate+telemetry", url: observed.url, pids: () => [observed.child.pid] });
  }
  const version = options.skipNginx || profileDir ? undefined : nginxVersion();
  if (version) {
    try {
      const nginx = await startNginx(upstreamUrl);
      children.push(nginx.child);
      targets.push({ name: "nginx", url: nginx.url, pids: () => processTree(nginx.child.pid) });
    } catch (err) {
      notes.push(`nginx is installed but did not start: ${(err as Error).message}`);
    }
  }
  return { gateway, targets, nginx: version ?? (options.skipNginx ? "skipped" : "not installed") };
}

async function runAll(phases: Phases, targets: readonly Target[], opts: BenchOptions): Promise<void> {
  for (const target of targets) await phases.warmUp(target);
  const closedRps: number[][] = [];
  for (let rep = 0; rep < opts.reps; rep++) {
    progress(`requests, repetition ${rep + 1}/${opts.reps}`);
    const row: number[] = [];
    for (const target of targets) row.push(await phases.requests(target));
    closedRps.push(row);
  }
  const plain = targets.find((target) => target.name === "fleetgate");
  const observed = targets.find((target) => target.name === "fleetgate+telemetry");
  for (let rep = 0; plain && observed && rep < opts.reps; rep++) {
    progress(`telemetry off and on at once, repetition ${rep + 1}/${opts.reps}`);
    await phases.paired(plain, observed);
  }
  for (let rep = 0; rep < opts.reps; rep++) {
    progress(`rate search, repetition ${rep + 1}/${opts.reps}`);
    for (const [i, target] of targets.entries()) await phases.maxRate(target, closedRps[rep]?.[i] ?? 1000);
  }
  for (let rep = 0; rep < opts.reps; rep++) {
    progress(`streams, repetition ${rep + 1}/${opts.reps}`);
    for (const target of targets) await phases.streams(target);
  }
  // Only proxies: the direct path has no proxy process whose memory the figure is about.
  for (let rep = 0; rep < opts.reps; rep++) {
    progress(`${opts.holdStreams} open streams, repetition ${rep + 1}/${opts.reps}`);
    for (const target of targets) if (target.name !== "direct") await phases.hold(target);
  }
}

/** Non-streamed load on a profiled gateway; the profile is cut to the measured window. */
async function runProfile(
  load: LoadClient,
  phases: Phases,
  gateway: Target,
  stop: () => Promise<void>,
  dir: string,
) {
  await phases.warmUp(gateway);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await load.run<LatencyResult>({
    type: "closed",
    url: gateway.url,
    concurrency: options.throughputConcurrency,
    requests: options.profileRequests,
  });
  const toUs = Number(process.hrtime.bigint() / 1000n);
  progress(
    `profiled ${result.completed} requests at ${((result.completed / result.elapsedMs) * 1000).toFixed(0)} rps`,
  );
  await stop();
  const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  console.log(`profile: ${join(dir, file)}`);
  printSummary(summarise(join(dir, file), fromUs, toUs));
}

async function main(): Promise<void> {
  // Other work on the machine shows up as noise in every figure; say how busy it was.
  const notes: string[] = [
    `load average at start: ${loadavg()[0]?.toFixed(2)} on ${availableParallelism()} cores`,
  ];
  const fdLimit = openFilesLimit();
  if (fdLimit < options.holdStreams * 2 + 1000) {
    notes.push(
      `open files limit ${fdLimit} is below the ~${options.holdStreams * 2 + 1000} a proxy needs for ` +
        `${options.holdStreams} streams (a client and an upstream socket each): raise it with ulimit -n`,
    );
  }
  const profileDir = options.profile ? mkdtempSync(join(tmpdir(), "fleetgate-bench-prof-")) : undefined;
  const upstream = await startNode(here("./upstream.ts"), [], LOAD_CORE);
  const { gateway, targets, nginx } = await startTargets(upstream.url, profileDir, notes);
  const loader = spawnNode(here("./loadgen.ts"), [], { core: LOAD_CORE, ipc: true });
  children.push(loader);
  const load = new LoadClient(loader.process);
  const phases = new Phases(load, options, progress);
  progress(
    `targets: ${targets.map((t) => `${t.name} ${t.url}`).join(", ")}; pinning ${PINNING ? "on" : "off"}`,
  );
  if (profileDir) {
    const gatewayTarget = targets.find((t) => t.name === "fleetgate")!;
    await runProfile(load, phases, gatewayTarget, () => gateway.child.stop(), profileDir);
    return;
  }
  await runAll(phases, targets, options);
  const telemetry = telemetryNote(phases.recorded, options.traceRatio);
  if (telemetry) notes.push(telemetry);
  notes.push(
    "Pipeline stages on: request validation, latency routing with prefix affinity (in-memory store), token " +
      "estimate, per-node circuit breakers, retry budget, failover, settle with its subscribers, and for streams " +
      "the SSE observer and the continuation transcript. fleetgate runs open (no keys); fleetgate+auth is the " +
      "same gateway with one configured API key that every request must present; both run with telemetry off " +
      "(metrics.enabled and access_log.enabled false), fleetgate+telemetry with metrics and the access log on; fleetgate+redis is fleetgate+auth with the shared state (affinity memory, keys, ledger) in " +
      "Redis (" +
      options.redisUrl +
      "), and fleetgate+quotas the same with request and token limits on the key, reserved and settled there " +
      "for every request: their difference is the quotas' cost.",
    `Streams: ${options.streamChunks} chunks each, one SSE event per upstream write; chunks/s counts SSE events received by the client at ${options.streamConcurrency} concurrent streams (closed loop), TTFT is request start to first body byte.`,
    "Highest rate: open loop (latency from each request's scheduled time), bisected between a quarter of and 1.1× the closed-loop c=32 rate; 0 means p99 stayed ≥ 10 ms down to the lowest rate tried (≥ 50 rps); the load generator shares a core with the upstream, so the direct figure is the rig's ceiling.",
    "CPU-µs per request: the proxy process's utime+stime from /proc over the requests served (nginx: master + worker).",
    "RSS: VmRSS of the same proxy process after all earlier phases (nginx: master + worker), so memory kept from earlier load counts; the added row is the growth while the streams are open.",
  );
  const info: RunInfo = {
    command: `npm run bench:overhead${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    pinning: PINNING,
    nginx,
    openFilesLimit: fdLimit,
    reps: options.reps,
    holdStreams: options.holdStreams,
    notes,
  };
  const rows = buildRows(phases.recorded, options.holdStreams);
  printTable(rows, info);
  if (!options.write) return;
  const measuredAt = new Date().toISOString();
  const results = new URL("../results/", import.meta.url);
  mkdirSync(results, { recursive: true });
  const json = { benchmark: "overhead", measuredAt, ...info, options, rows, recorded: phases.recorded };
  writeFileSync(new URL("overhead.json", results), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(new URL("overhead.md", results), markdown(rows, info, measuredAt));
  console.log("\nwrote bench/results/overhead.json and bench/results/overhead.md");
}

try {
  await main();
} finally {
  await stopAll();
}
