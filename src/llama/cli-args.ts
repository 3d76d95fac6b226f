import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { z } from "zod";
import type { CudaMode } from "./build.js";

export class CliUsageError extends Error {
  override name = "CliUsageError";
}

export const LLAMA_USAGE = `Usage: fleetgate llama <build|model> [options]

  build              clone llama.cpp (from the node-llama-cpp tarball) into the cache and build llama-server
    --cuda           build with CUDA (needs nvcc); default: CUDA only when nvcc and a GPU are present
    --cpu            never build with CUDA
    --jobs N         parallel compile jobs (default: number of cores)
  model              write the tiny random-weight llama model into the cache and print its path
    --seed N         PRNG seed (default 42); the same seed gives the same bytes
    --out FILE       write here instead of the cache

The cache is ~/.cache/fleetgate unless FLEETGATE_CACHE_DIR is set.`;

export const NODE_USAGE = `Usage: fleetgate node --port N [options] [-- llama-server args...]

Starts a real llama-server (building it first if needed) with --metrics and /slots on, and stops it
cleanly on SIGINT/SIGTERM.

  --port N           port to listen on (required)
  --host H           address to bind (default 127.0.0.1)
  --model FILE       GGUF model (default: the tiny generated model, created if needed)
  --slots N          parallel slots, llama-server -np (default 1)
  --ctx-size N       total context, split between slots (default: llama-server's)
  --threads N        CPU threads (default: llama-server's)
  --alias NAME       model name reported by /v1/models
  --api-key KEY      require this API key
  --embeddings       enable /v1/embeddings
  --cuda | --cpu     backend of the llama-server build (default: CUDA only with nvcc and a GPU)
  --no-wait          do not wait for /health before reporting the node as started
  --ready-timeout S  seconds to wait for /health (default 120)

Joining a gateway's fleet (runs the node agent beside llama-server; see 'fleetgate agent --help'):
  --join URL         the gateway to register with (needs --token)
  --token T          an enrollment token of the gateway
  --id ID            node id (default the host name); --region CODE or --lat/--lon; --models A,B
  --public-url URL   where the gateway reaches this node (bind with --host 0.0.0.0)`;

/** Zod issues point at the flag that carried the value, so errors can name it as the user typed it. */
function parseFlags<T extends z.ZodType>(schema: T, values: Record<string, unknown>): z.infer<T> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const msg = parsed.error.issues
    .map((i) => (i.path.length > 0 ? `--${String(i.path[0])}: ${i.message}` : i.message))
    .join("; ");
  throw new CliUsageError(msg);
}

/** The agent's flags as parseArgs options; `fleetgate node --join` takes the same ones. */
export const AGENT_FLAGS = {
  gateway: { type: "string" },
  join: { type: "string" },
  token: { type: "string" },
  llama: { type: "string" },
  id: { type: "string" },
  region: { type: "string" },
  lat: { type: "string" },
  lon: { type: "string" },
  "public-url": { type: "string" },
  models: { type: "string" },
  "drain-timeout": { type: "string" },
} as const;

export function parseRaw<O extends ParseArgsOptionsConfig>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliUsageError(err instanceof Error ? err.message : String(err));
  }
}

const intFlag = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional();

function cudaMode(cuda: boolean | undefined, cpu: boolean | undefined): CudaMode {
  if (cuda && cpu) throw new CliUsageError("--cuda and --cpu cannot be used together");
  return cuda ? "on" : cpu ? "off" : "auto";
}

export type LlamaCommand =
  | { command: "help" }
  | { command: "build"; cuda: CudaMode; jobs?: number }
  | { command: "model"; seed?: number; out?: string };

const llamaSchema = z.object({
  help: z.boolean().optional(),
  cuda: z.boolean().optional(),
  cpu: z.boolean().optional(),
  jobs: intFlag(1, 1024),
  seed: intFlag(0, 0xffffffff),
  out: z.string().min(1).optional(),
});

export function parseLlamaArgs(argv: string[]): LlamaCommand {
  const { values, positionals } = parseRaw(argv, {
    help: { type: "boolean", short: "h" },
    cuda: { type: "boolean" },
    cpu: { type: "boolean" },
    jobs: { type: "string", short: "j" },
    seed: { type: "string" },
    out: { type: "string" },
  });
  const flags = parseFlags(llamaSchema, values);
  const [sub, ...rest] = positionals;
  if (flags.help || sub === undefined || sub === "help") return { command: "help" };
  if (rest.length > 0) throw new CliUsageError(`unexpected argument: ${rest[0]}`);
  const misplaced = (names: (keyof typeof flags)[]) => {
    const bad = names.find((n) => flags[n] !== undefined);
    if (bad) throw new CliUsageError(`--${bad} does not apply to 'llama ${sub}'`);
  };
  if (sub === "build") {
    misplaced(["seed", "out"]);
    return { command: "build", cuda: cudaMode(flags.cuda, flags.cpu), jobs: flags.jobs };
  }
  if (sub === "model") {
    misplaced(["cuda", "cpu", "jobs"]);
    return { command: "model", seed: flags.seed, out: flags.out };
  }
  throw new CliUsageError(`unknown subcommand 'llama ${sub}' (expected build or model)`);
}

export interface NodeCommand {
  help: false;
  port: number;
  host: string;
  model?: string;
  slots: number;
  ctxSize?: number;
  threads?: number;
  alias?: string;
  apiKey?: string;
  embeddings: boolean;
  cuda: CudaMode;
  wait: boolean;
  readyTimeoutSeconds: number;
  extraArgs: string[];
  /** With --join: the agent's flags, to register this node with a gateway. */
  join?: Partial<Record<keyof typeof AGENT_FLAGS, string>>;
}

const nodeSchema = z.object({
  port: z.coerce.number().int().min(1).max(65535),
  host: z.string().min(1).default("127.0.0.1"),
  model: z.string().min(1).optional(),
  slots: z.coerce.number().int().min(1).max(256).default(1),
  "ctx-size": intFlag(1, 1 << 24),
  threads: intFlag(1, 1024),
  alias: z.string().min(1).optional(),
  "api-key": z.string().min(1).optional(),
  embeddings: z.boolean().default(false),
  "no-wait": z.boolean().default(false),
  "ready-timeout": z.coerce.number().positive().max(3600).default(120),
});

export function parseNodeArgs(argv: string[]): NodeCommand | { help: true } {
  const split = argv.indexOf("--");
  const own = split === -1 ? argv : argv.slice(0, split);
  const extraArgs = split === -1 ? [] : argv.slice(split + 1);
  const str = { type: "string" } as const;
  const bool = { type: "boolean" } as const;
  const { values, positionals } = parseRaw(own, {
    help: { type: "boolean", short: "h" },
    port: { type: "string", short: "p" },
    host: str,
    model: { type: "string", short: "m" },
    slots: str,
    "ctx-size": { type: "string", short: "c" },
    threads: { type: "string", short: "t" },
    alias: str,
    "api-key": str,
    embeddings: bool,
    cuda: bool,
    cpu: bool,
    "no-wait": bool,
    "ready-timeout": str,
    ...AGENT_FLAGS,
  });
  if (values.help) return { help: true };
  if (positionals.length > 0) {
    throw new CliUsageError(`unexpected argument: ${positionals[0]} (llama-server flags go after --)`);
  }
  const { cuda, cpu, help: _help, gateway, join, token, llama, id, region, lat, lon, ...rest } = values;
  const { "public-url": publicUrl, models, "drain-timeout": drainTimeout, ...own2 } = rest;
  const agentFlags = {
    gateway,
    join,
    token,
    llama,
    id,
    region,
    lat,
    lon,
    "public-url": publicUrl,
    models,
    "drain-timeout": drainTimeout,
  };
  const anyAgentFlag = Object.values(agentFlags).some((value) => value !== undefined);
  if (anyAgentFlag && join === undefined)
    throw new CliUsageError("--token, --id, --region... go with --join URL");
  const f = parseFlags(nodeSchema, own2);
  return {
    help: false,
    port: f.port,
    host: f.host,
    model: f.model,
    slots: f.slots,
    ctxSize: f["ctx-size"],
    threads: f.threads,
    alias: f.alias,
    apiKey: f["api-key"],
    embeddings: f.embeddings,
    cuda: cudaMode(cuda === true, cpu === true),
    wait: !f["no-wait"],
    readyTimeoutSeconds: f["ready-timeout"],
    extraArgs,
    ...(join === undefined ? {} : { join: agentFlags }),
  };
}
