import { parseArgs } from "node:util";
import { type GatewayConfig, loadConfigFile } from "./config/index.js";
import { networkPriorMs, resolveRegion } from "./geo/index.js";
import { startGateway } from "./main.js";
import { type SimNode, startSimNode } from "./sim/index.js";
import { createLogger } from "./telemetry/index.js";

export const DEMO_USAGE = `Usage: fleetgate demo [--config FILE] [--port N]

Starts one simulated llama.cpp node for every node in the config (they must be local http URLs),
each slowed by the network distance between its region and the gateway's, and a gateway in front.
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
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(DEMO_USAGE);
    return;
  }
  const loaded = loadConfigFile(values.config, process.env);
  const port = values.port === undefined ? loaded.server.port : Number(values.port);
  const config: GatewayConfig = { ...loaded, server: { ...loaded.server, port } };
  const sims = await startSims(config);
  const gateway = await startGateway(config, createLogger("warn"));
  const base = `${gateway.url}/v1`;
  const model = gateway.registry.models()[0]?.id ?? "tiny";
  process.stdout.write(banner(base, model, sims, config));
  const stop = async () => {
    await gateway.close(2000);
    await Promise.all(sims.map((sim) => sim.close()));
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

async function startSims(config: GatewayConfig): Promise<SimNode[]> {
  const custom = new Map(Object.entries(config.regions));
  const home = config.location?.region ? resolveRegion(config.location.region, custom) : undefined;
  return Promise.all(
    config.nodes.map((node, i) => {
      const url = new URL(node.url);
      if (!["127.0.0.1", "localhost"].includes(url.hostname)) {
        throw new Error(`nodes[${i}].url: the demo only simulates local nodes, got ${node.url}`);
      }
      const where = node.region ? resolveRegion(node.region, custom) : undefined;
      const rttMs = home && where ? Math.round(networkPriorMs(home, where)) : 0;
      return startSimNode({
        port: Number(url.port),
        model: node.models?.[0] ?? "tiny",
        ...(node.region ? { region: node.region } : {}),
        ...(node.api_key ? { apiKey: node.api_key } : {}),
        rttMs,
        ...PROFILES[i % PROFILES.length],
      });
    }),
  );
}

function banner(base: string, model: string, sims: SimNode[], config: GatewayConfig): string {
  const nodes = sims
    .map((sim, i) => {
      const node = config.nodes[i];
      return `  ${node?.id.padEnd(8)} ${sim.url}  region=${node?.region ?? "-"} rtt=${sim.options.rttMs}ms ${sim.options.tokensPerSecond} tok/s ${sim.options.slots} slots`;
    })
    .join("\n");
  return `
fleetgate demo: ${sims.length} simulated llama.cpp nodes behind one OpenAI-compatible URL
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

Nodes and their live statistics: ${base.replace(/\/v1$/, "")}/admin/nodes
Press Ctrl+C to stop.
`;
}
