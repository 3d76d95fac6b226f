import { homedir } from "node:os";
import { NodeAgent } from "./agent.js";
import { AGENT_USAGE, agentOptions, runAgentUntilSignal } from "./agent-cli.js";
import { type CudaMode, ensureLlamaServerBinary, type LlamaServerBinary } from "./build.js";
import {
  AGENT_FLAGS,
  CliUsageError,
  LLAMA_USAGE,
  NODE_USAGE,
  parseLlamaArgs,
  parseNodeArgs,
  parseRaw,
} from "./cli-args.js";
import { resolveCacheDir, tinyModelPath } from "./paths.js";
import { startLlamaServer } from "./server.js";
import { ensureLlamaSource } from "./source.js";
import { DEFAULT_TINY_MODEL_SEED, ensureTinyModelFile } from "./tiny-model.js";

export { CliUsageError };

/** Progress goes to stderr so stdout stays clean for what scripts capture (a model path, a URL). */
const log = (line: string) => process.stderr.write(`fleetgate: ${line}\n`);

function cacheDir(): string {
  return resolveCacheDir(process.env.FLEETGATE_CACHE_DIR, homedir());
}

function buildBinary(cuda: CudaMode, jobs?: number): Promise<LlamaServerBinary> {
  return ensureLlamaServerBinary({ cacheDir: cacheDir(), cuda, jobs, log });
}

async function writeModel(seed: number, out?: string): Promise<string> {
  const dir = cacheDir();
  // The model only needs the vocab from the source tree, not a built server.
  const src = await ensureLlamaSource(dir, log);
  const target = out ?? tinyModelPath(dir, seed);
  const res = await ensureTinyModelFile(src.vocabPath, target, { seed });
  const mb = (res.bytes / 1024 / 1024).toFixed(1);
  log(res.created ? `wrote tiny model (${mb} MiB, seed ${seed})` : `tiny model already present (${mb} MiB)`);
  return res.path;
}

/** `fleetgate llama build|model`: prepares the llama.cpp binary and the tiny model in the cache. */
export async function runLlamaCommand(argv: string[]): Promise<void> {
  const cmd = parseLlamaArgs(argv);
  switch (cmd.command) {
    case "help":
      process.stdout.write(`${LLAMA_USAGE}\n`);
      return;
    case "build": {
      const bin = await buildBinary(cmd.cuda, cmd.jobs);
      if (bin.buildSeconds === 0) log(`llama-server ${bin.key} (${bin.backend}) already built`);
      process.stdout.write(`${bin.binary}\n`);
      return;
    }
    case "model":
      process.stdout.write(`${await writeModel(cmd.seed ?? DEFAULT_TINY_MODEL_SEED, cmd.out)}\n`);
      return;
  }
}

/** `fleetgate node`: runs one real llama-server in the foreground until it exits or is signalled. */
export async function runNodeCommand(argv: string[]): Promise<void> {
  const opts = parseNodeArgs(argv);
  if (opts.help) {
    process.stdout.write(`${NODE_USAGE}\n`);
    return;
  }
  const bin = await buildBinary(opts.cuda);
  const model = opts.model ?? (await writeModel(DEFAULT_TINY_MODEL_SEED));
  const prefix = `[node:${opts.port}] `;
  const server = await startLlamaServer({
    binary: bin.binary,
    model,
    port: opts.port,
    host: opts.host,
    slots: opts.slots,
    ctxSize: opts.ctxSize,
    threads: opts.threads,
    alias: opts.alias,
    apiKey: opts.apiKey,
    embeddings: opts.embeddings,
    extraArgs: opts.extraArgs,
    waitReady: opts.wait,
    readyTimeoutMs: opts.readyTimeoutSeconds * 1000,
    onLog: (line) => process.stderr.write(`${prefix}${line}\n`),
  });
  log(`llama-server pid ${server.pid} ${opts.wait ? "ready" : "started"} at ${server.url}`);
  process.stdout.write(`${server.url}\n`);
  if (opts.join) {
    // SIGTERM: the agent drains the node and deregisters it, then llama-server stops.
    const agent = new NodeAgent(agentOptions({ ...opts.join }, process.env, log, { llama: server.url }));
    await runAgentUntilSignal(agent, async () => {
      await server.stop();
      log("llama-server stopped");
    });
    return;
  }

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C means "now": do not make the user wait out the grace period.
      server.kill("SIGKILL");
      return;
    }
    stopping = true;
    log(`${signal}: stopping llama-server pid ${server.pid}`);
    void server.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const exit = await server.exited;
    if (!stopping && exit.code !== 0) {
      throw new Error(`llama-server exited unexpectedly (code ${exit.code}, signal ${exit.signal})`);
    }
    log("llama-server stopped");
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** `fleetgate agent`: the sidecar that joins a running llama-server to a gateway's fleet. */
export async function runAgentCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseRaw(argv, { help: { type: "boolean", short: "h" }, ...AGENT_FLAGS });
  if (values.help) {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return;
  }
  if (positionals.length > 0) throw new CliUsageError(`unexpected argument: ${positionals[0]}`);
  const { help: _help, ...flags } = values;
  await runAgentUntilSignal(new NodeAgent(agentOptions(flags, process.env, log)));
}
