import { parseArgs } from "node:util";
import { optionsIssue, type SimNodeOptions } from "./options.js";

export const SIM_HELP = `Usage: fleetgate sim [options]

Runs a simulated llama.cpp llama-server node, faithful on the wire.

Node:
  --host <addr>                        listen address (default 127.0.0.1)
  --port <n>                           listen port, 0 for any free port (default 0)
  --model <id>                         model id served (default tiny)
  --region <name>                      region shown in the banner
  --slots <n>                          parallel slots (default 4)
  --n-ctx <n>                          context per slot in tokens (default 4096)
  --ttft-ms <ms>                       fixed overhead before the first token (default 20)
  --tokens-per-second <n>              decode speed per slot (default 50)
  --prefill-tokens-per-second <n>      prompt evaluation speed (default 2000)
  --rtt-ms <ms>                        simulated network round trip before headers (default 0)
  --loading-ms <ms>                    answer 503 "Loading model" for this long (default 0)
  --default-max-tokens <n>             generation limit when a request sets none (default 64)
  --no-embeddings                      answer /v1/embeddings with 501
  --api-key <key>                      require Bearer or X-Api-Key like llama-server
  --seed <n>                           generation seed (default 42)

Faults:
  --error-rate <0..1>                  share of completions answered 500
  --hang-before-headers                never answer inference requests
  --hang-mid-stream-after-tokens <n>   stream n tokens, then go silent
  --die-after-tokens <n>               stream n tokens, then drop the connection
  --malformed                          emit invalid JSON bodies and stream chunks
  --slow-bytes-per-second <n>          trickle response bodies
  --flap-period-ms <ms>                /health alternates ok and 503 every period

  -h, --help                           show this help
`;

type Kind = "string" | "number" | "boolean";
/** Each flag, its kind and where its value goes in SimNodeOptions (`faults.` for a fault). */
const FLAGS: Record<string, { kind: Kind; path: string }> = {
  host: { kind: "string", path: "host" },
  port: { kind: "number", path: "port" },
  model: { kind: "string", path: "model" },
  region: { kind: "string", path: "region" },
  slots: { kind: "number", path: "slots" },
  "n-ctx": { kind: "number", path: "nCtx" },
  "ttft-ms": { kind: "number", path: "ttftMs" },
  "tokens-per-second": { kind: "number", path: "tokensPerSecond" },
  "prefill-tokens-per-second": { kind: "number", path: "prefillTokensPerSecond" },
  "rtt-ms": { kind: "number", path: "rttMs" },
  "loading-ms": { kind: "number", path: "loadingMs" },
  "default-max-tokens": { kind: "number", path: "defaultMaxTokens" },
  "api-key": { kind: "string", path: "apiKey" },
  seed: { kind: "number", path: "seed" },
  "error-rate": { kind: "number", path: "faults.errorRate" },
  "hang-before-headers": { kind: "boolean", path: "faults.hangBeforeHeaders" },
  "hang-mid-stream-after-tokens": { kind: "number", path: "faults.hangMidStreamAfterTokens" },
  "die-after-tokens": { kind: "number", path: "faults.dieAfterTokens" },
  malformed: { kind: "boolean", path: "faults.malformedOutput" },
  "slow-bytes-per-second": { kind: "number", path: "faults.slowBytesPerSecond" },
  "flap-period-ms": { kind: "number", path: "faults.flapPeriodMs" },
};

/** Turns `fleetgate sim` flags into node options; a bad value throws an Error that names its flag. */
export function parseSimArgs(argv: string[]): SimNodeOptions {
  const parsed = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      ...Object.fromEntries(
        Object.entries(FLAGS).map(([flag, { kind }]) => [
          flag,
          { type: kind === "boolean" ? "boolean" : "string" },
        ]),
      ),
      "no-embeddings": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    } as const,
  });
  // The flag table is built at run time, so parseArgs cannot type the values per flag.
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const options: Record<string, unknown> = {};
  const faults: Record<string, unknown> = {};
  for (const [flag, { kind, path }] of Object.entries(FLAGS)) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const value = kind === "number" ? toNumber(flag, raw) : raw;
    if (path.startsWith("faults.")) faults[path.slice("faults.".length)] = value;
    else options[path] = value;
  }
  if (values["no-embeddings"] === true) options.embeddings = false;
  if (Object.keys(faults).length > 0) options.faults = faults;
  const issue = optionsIssue(options);
  if (issue) throw new Error(`Invalid value for ${flagOf(issue.path)}: ${issue.message}`);
  return options as SimNodeOptions;
}

function toNumber(flag: string, raw: string | boolean): number {
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value))
    throw new Error(`Invalid value for --${flag}: expected a number, got '${String(raw)}'`);
  return value;
}

function flagOf(path: string): string {
  if (path === "embeddings") return "--no-embeddings";
  const flag = Object.entries(FLAGS).find(([, spec]) => spec.path === path)?.[0];
  return flag ? `--${flag}` : path;
}
