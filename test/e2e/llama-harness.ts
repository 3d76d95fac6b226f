/**
 * Real llama-server nodes for end-to-end tests: the binary built once per machine into the cache, the
 * tiny generated model, and fleets of nodes on free loopback ports that tests can stop, kill and
 * restart to play out failures.
 */
import { homedir } from "node:os";
import { ensureLlamaServerBinary as ensureBinary } from "../../src/llama/build.js";
import { resolveCacheDir, tinyModelPath } from "../../src/llama/paths.js";
import {
  type ExitInfo,
  type LlamaServerHandle,
  LlamaServerStartError,
  startLlamaServer,
} from "../../src/llama/server.js";
import { ensureLlamaSource } from "../../src/llama/source.js";
import {
  DEFAULT_TINY_MODEL_SEED,
  ensureTinyModelFile,
  TINY_MODEL_SIZES,
  type TinyModelSize,
} from "../../src/llama/tiny-model.js";
import { freePort } from "../support/ports.js";

export const TINY_MODEL_ALIAS = "tiny-llama";

const cacheDir = () => resolveCacheDir(process.env.FLEETGATE_CACHE_DIR, homedir());
const verbose = () => process.env.FLEETGATE_E2E_LOGS === "1";
const log = (line: string) => process.stderr.write(`[llama-harness] ${line}\n`);

/** Path of the CPU llama-server binary, built on first use (about 4 minutes on 2 cores). */
export async function ensureLlamaServerBinary(): Promise<string> {
  return (await ensureBinary({ cacheDir: cacheDir(), cuda: "off", log })).binary;
}

/**
 * Path of the tiny random-weight llama model (about 17 MB), generated on first use; `bench` is the
 * bigger size whose prefill costs what a routing benchmark needs.
 */
export async function ensureTinyModel(
  seed = DEFAULT_TINY_MODEL_SEED,
  size: TinyModelSize = "tiny",
): Promise<string> {
  const src = await ensureLlamaSource(cacheDir(), log);
  const path = tinyModelPath(cacheDir(), seed, size);
  return (await ensureTinyModelFile(src.vocabPath, path, { seed, shape: TINY_MODEL_SIZES[size] })).path;
}

/** vitest globalSetup hook: pays the build before any test starts, so no test times out on it. */
export async function setup(): Promise<void> {
  const started = Date.now();
  const [binary, model] = [await ensureLlamaServerBinary(), await ensureTinyModel()];
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${binary}, ${model}`);
}

export { freePort };

export interface LlamaNodeOptions {
  slots?: number;
  ctxSize?: number;
  /** Defaults to 1 so that several nodes share 2 cores without starving each other. */
  threads?: number;
  alias?: string;
  apiKey?: string;
  embeddings?: boolean;
  extraArgs?: string[];
  model?: string;
  readyTimeoutMs?: number;
}

export interface LlamaNode {
  readonly index: number;
  readonly port: number;
  readonly url: string;
  /** Pid of the current process; changes on restart. */
  readonly pid: number;
  readonly running: boolean;
  /** Graceful: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<ExitInfo | null>;
  /** Abrupt, like a crash: SIGKILL by default; resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<ExitInfo | null>;
  /** Starts the node again on the same port, after stopping it if it still runs. */
  restart(): Promise<void>;
}

export interface LlamaFleet {
  nodes: LlamaNode[];
  stop(): Promise<void>;
}

const live = new Set<LlamaServerHandle>();
// Servers must not outlive a crashed or interrupted test worker: they would hold ports and CPU.
process.once("exit", () => {
  for (const h of live) h.kill("SIGKILL");
});

async function launch(port: number, index: number, opts: LlamaNodeOptions): Promise<LlamaServerHandle> {
  const handle = await startLlamaServer({
    binary: await ensureLlamaServerBinary(),
    model: opts.model ?? (await ensureTinyModel()),
    port,
    slots: opts.slots ?? 1,
    ctxSize: opts.ctxSize,
    threads: opts.threads ?? 1,
    alias: opts.alias ?? TINY_MODEL_ALIAS,
    apiKey: opts.apiKey,
    embeddings: opts.embeddings,
    extraArgs: opts.extraArgs,
    readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
    onLog: verbose() ? (line) => process.stderr.write(`[node${index}:${port}] ${line}\n`) : undefined,
  });
  live.add(handle);
  void handle.exited.then(() => live.delete(handle));
  return handle;
}

/** Starts one node on a free port (or `port`), retrying with a new port if the chosen one was taken. */
export async function startLlamaNode(
  opts: LlamaNodeOptions & { port?: number; index?: number } = {},
): Promise<LlamaNode> {
  const index = opts.index ?? 0;
  let handle: LlamaServerHandle | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && !handle; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      handle = await launch(port, index, opts);
    } catch (err) {
      if (!(err instanceof LlamaServerStartError) || opts.port !== undefined) throw err;
      lastError = err;
    }
  }
  if (!handle) throw lastError;
  let current: LlamaServerHandle = handle;
  let running = false;
  const track = (h: LlamaServerHandle) => {
    current = h;
    running = true;
    // Only the exit of the current process counts: a restarted node's old process exits first.
    void h.exited.then(() => {
      if (current === h) running = false;
    });
  };
  track(handle);
  const node: LlamaNode = {
    index,
    port: current.port,
    url: current.url,
    get pid() {
      return current.pid;
    },
    get running() {
      return running;
    },
    stop: async (graceMs) => (running ? current.stop(graceMs) : null),
    kill: async (signal) => {
      if (!running) return null;
      current.kill(signal);
      return current.exited;
    },
    restart: async () => {
      if (running) await current.stop();
      track(await launch(node.port, index, opts));
    },
  };
  return node;
}

/** Starts `n` nodes in parallel; if any fails to start, the others are stopped before rethrowing. */
export async function startLlamaFleet(n: number, opts: LlamaNodeOptions = {}): Promise<LlamaFleet> {
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, index) => startLlamaNode({ ...opts, index })),
  );
  const nodes = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { nodes, stop };
}
