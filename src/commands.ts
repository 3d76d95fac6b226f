// The commands behind the `fleetgate` bin; src/cli.ts loads this once the running Node is known to suffice.
import { parseArgs } from "node:util";
import { ConfigError, type GatewayConfig, loadConfigFile } from "./config/index.js";
import { resolveRegion } from "./geo/index.js";
import { createLogger } from "./telemetry/index.js";

const USAGE = `fleetgate: an OpenAI-compatible gateway for fleets of llama.cpp nodes

Usage:
  fleetgate serve [--config FILE] [--port N]   run the gateway (default config ./gateway.config.yaml)
  fleetgate demo [--port N]                     simulated fleet + gateway, ready to try
  fleetgate sim --port N [options]             run a simulated llama-server node
  fleetgate node --port N [options]            run a real llama-server node (built if needed)
  fleetgate node --port N --join URL --token T run one and join it to a gateway's fleet
  fleetgate agent --gateway URL --token T ...  join a running llama-server to a gateway's fleet
  fleetgate llama build|model                  build llama-server / write the tiny test model

Run 'fleetgate <command> --help' for a command's options.
`;

const SERVE_USAGE = `Usage: fleetgate serve [--config FILE] [--port N] [--log-level LEVEL] [--drain-ms MS]

  --config FILE      gateway config (YAML); default ./gateway.config.yaml
  --port N           listen port; overrides server.port and the PORT environment variable
  --log-level LEVEL  debug | info | warn | error (default info)
  --drain-ms MS      on SIGTERM, how long open streams may finish (default 10000)
`;

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string", default: "gateway.config.yaml" },
      port: { type: "string" },
      "log-level": { type: "string", default: "info" },
      "drain-ms": { type: "string", default: "10000" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return;
  }
  const level = values["log-level"];
  if (level !== "debug" && level !== "info" && level !== "warn" && level !== "error") {
    throw new ConfigError(`--log-level must be debug, info, warn or error, got '${level}'`, "--log-level");
  }
  const drainMs = integerFlag("--drain-ms", values["drain-ms"]);
  const port = values.port ?? process.env.PORT;
  const loaded = loadConfigFile(values.config, process.env);
  const flyRegion = process.env.FLY_REGION;
  const config: GatewayConfig = {
    ...loaded,
    server: port === undefined ? loaded.server : { ...loaded.server, port: integerFlag("--port", port) },
    // On Fly.io the platform says where this replica runs; an explicit location in config wins.
    location: loaded.location ?? (flyRegion ? { region: knownRegion(flyRegion, loaded) } : undefined),
  };
  const { startGateway } = await import("./main.js");
  const running = await startGateway(config, createLogger(level), process.env);
  process.stdout.write(`fleetgate serving on ${running.url}/v1\n`);
  const stop = () => {
    running.close(drainMs).then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

function knownRegion(code: string, config: GatewayConfig): string {
  const region = code.toLowerCase();
  if (!resolveRegion(region, new Map(Object.entries(config.regions)))) {
    throw new ConfigError(`FLY_REGION: unknown region '${code}' (add it under 'regions')`, "FLY_REGION");
  }
  return region;
}

function integerFlag(flag: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new ConfigError(`${flag} must be a whole number, got '${value}'`, flag);
  return parsed;
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return serve(rest);
    case "demo":
      return (await import("./demo.js")).runDemo(rest);
    case "sim":
      return (await import("./sim/cli.js")).runSimCommand(rest);
    case "node":
      return (await import("./llama/cli.js")).runNodeCommand(rest);
    case "agent":
      return (await import("./llama/cli.js")).runAgentCommand(rest);
    case "llama":
      return (await import("./llama/cli.js")).runLlamaCommand(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return;
    default:
      throw new ConfigError(`unknown command '${command}'\n\n${USAGE}`, "");
  }
}
