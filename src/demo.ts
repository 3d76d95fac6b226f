import { randomBytes } from "node:crypto";
import { homedir } from "node:os";
import { parseArgs } from "node:util";
import { type GatewayConfig, loadConfigFile } from "./config/index.js";
import { networkPriorMs, resolveRegion } from "./geo/index.js";
import { prepareTinyLlama, resolveCacheDir, startLlamaServer } from "./llama/index.js";
import { startGateway } from "./main.js";
import { type SimNode, startSimNode } from "./sim/index.js";
import { createLogger } from "./telemetry/index.js";

export const DEMO_USAGE = `Usage: fleetgate demo [--config FILE] [--port N] [--llama]

Starts one simulated llama.cpp node for every node in the config (they must be local http URLs),
each slowed by the network distance between its region and the gateway's, and a gateway in front.
With --llama the nodes are real llama-servers running the tiny generated model (built on first use).
`;

/** Nodes differ in speed and size the way a volunteer fleet does. */
const PROFILES = [
  { tokensPerSecond: 60, slots: 4, prefillTokensPerSecond: 3000 },
  { tokensPerSecond: 40, slots: 2, prefillTokensPerSecond: 1500 },
  { tokensPerSecond: 25, slots: 4, prefillTokensPerSecond: 1000 },
  { tokensPerSecond: 80, slots: 8, prefillTokensPerSecond: 4000 },
] as const;

export async function runDemo(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string", default: "gateway.config.yaml" },
      port: { type: "string" },
      llama: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(DEMO_USAGE);
    return;
  }
  const loaded = loadConfigFile(values.config, process.env);
  const port = values.port === undefined ? loaded.server.port : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be a port number, got '${values.port}'`);
  }
  // The demo runs open, but its admin API is locked like any other: with a token made for this run.
  const admin = { ...loaded.admin, token: loaded.admin.token ?? randomBytes(18).toString("base64url") };
  const config: GatewayConfig = { ...loaded, server: { ...loaded.server, port }, admin };
  const nodes = values.llama ? await startLlamaNodes(config) : await startSims(config);
  const gateway = await startGateway(config, createLogger("warn"));
  const base = `${gateway.url}/v1`;
  const model = gateway.registry.models()[0]?.id ?? "tiny";
  process.stdout.write(
    banner(base, model, nodes, config, values.llama ? "real llama-server" : "simulated llama.cpp"),
  );
  const stop = async () => {
    await gateway.close(2000);
    await Promise.all(nodes.map((node) => node.close()));
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

/** A node the demo started, whatever runs it. */
interface DemoNode {
  readonly url: string;
  readonly description: string;
  close(): Promise<unknown>;
}

function localPort(node: GatewayConfig["nodes"][number], index: number): number {
  const url = new URL(node.url);
  if (!["127.0.0.1", "localhost"].includes(url.hostname) || !url.port) {
    throw new Error(`nodes[${index}].url: the demo only starts local nodes with a port, got ${node.url}`);
  }
  return Number(url.port);
}

async function startSims(config: GatewayConfig): Promise<DemoNode[]> {
  const custom = new Map(Object.entries(config.regions));
  const home = config.location?.region ? resolveRegion(config.location.region, custom) : undefined;
  return Promise.all(
    config.nodes.map(async (node, i): Promise<DemoNode> => {
      const where = node.region ? resolveRegion(node.region, custom) : undefined;
      const rttMs = home && where ? Math.round(networkPriorMs(home, where)) : 0;
      const sim: SimNode = await startSimNode({
        port: localPort(node, i),
        model: node.models?.[0] ?? "tiny",
        ...(node.region ? { region: node.region } : {}),
        ...(node.api_key ? { apiKey: node.api_key } : {}),
        rttMs,
        ...PROFILES[i % PROFILES.length],
      });
      const { tokensPerSecond, slots } = sim.options;
      return {
        url: sim.url,
        description: `rtt=${rttMs}ms ${tokensPerSecond} tok/s ${slots} slots`,
        close: () => sim.close(),
      };
    }),
  );
}

/** Real llama-servers on the configured ports, one thread each, serving the tiny model as "tiny". */
async function startLlamaNodes(config: GatewayConfig): Promise<DemoNode[]> {
  const cacheDir = resolveCacheDir(process.env.FLEETGATE_CACHE_DIR, homedir());
  const { binary, model } = await prepareTinyLlama(cacheDir, (line) =>
    process.stderr.write(`fleetgate: ${line}\n`),
  );
  return Promise.all(
    config.nodes.map(async (node, i): Promise<DemoNode> => {
      const slots = PROFILES[i % PROFILES.length]!.slots;
      const server = await startLlamaServer({
        binary,
        model,
        port: localPort(node, i),
        slots,
        threads: 1,
        alias: node.models?.[0] ?? "tiny",
        ...(node.api_key ? { apiKey: node.api_key } : {}),
      });
      return {
        url: server.url,
        description: `llama-server pid ${server.pid}, ${slots} slots`,
        close: () => server.stop(),
      };
    }),
  );
}

function banner(
  base: string,
  model: string,
  started: DemoNode[],
  config: GatewayConfig,
  kind: string,
): string {
  const nodes = started
    .map((node, i) => {
      const configured = config.nodes[i];
      return `  ${configured?.id.padEnd(8)} ${node.url}  region=${configured?.region ?? "-"} ${node.description}`;
    })
    .join("\n");
  return `
fleetgate demo: ${started.length} ${kind} nodes behind one OpenAI-compatible URL
${nodes}

Base URL: ${base}

  curl ${base}/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"${model}","messages":[{"role":"user","content":"Hello!"}],"stream":true}'

  // npm install openai
  import OpenAI from "openai";
  const client = new OpenAI({ baseURL: "${base}", apiKey: "unused" });
  const stream = await client.chat.completions.create({
    model: "${model}", messages: [{ role: "user", content: "Hello!" }], stream: true,
  });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? "");

The fleet at a glance, live (log in with the admin token ${config.admin.token}):
  ${base.replace(/\/v1$/, "")}/dashboard

Nodes and their live statistics:
  curl -H 'authorization: Bearer ${config.admin.token}' ${base.replace(/\/v1$/, "")}/admin/nodes
Press Ctrl+C to stop.
`;
}
