/**
 * The gateway under test, as its own process so that its CPU time and RSS can be read from /proc
 * without the load generator's. Arguments: the upstream URL, then `--auth` to require the bench's
 * API key (one key in the config, as most deployments have). Prints `{"url":...}` once listening; on
 * SIGTERM closes and exits cleanly, which is when `--cpu-prof` writes its profile.
 */
import { buildConfig } from "../../src/config/index.js";
import { startGateway } from "../../src/main.js";
import { createLogger } from "../../src/telemetry/index.js";
import { BENCH_API_KEY } from "./protocol.js";

const [upstream, flag] = process.argv.slice(2);
if (!upstream || (flag !== undefined && flag !== "--auth")) {
  throw new Error("usage: gateway-entry.ts <upstream url> [--auth]");
}

const config = buildConfig({
  server: { host: "127.0.0.1", port: 0 },
  location: { region: "fra" },
  // The production defaults: latency routing with prefix affinity in the embedded store.
  routing: { strategy: "latency" },
  // Room for the 5,000-stream test: each open stream holds one upstream connection.
  upstream: { max_connections_per_node: 8192 },
  nodes: [{ id: "bench-1", url: upstream, region: "fra" }],
  auth: flag === "--auth" ? { keys: [{ id: "bench", tenant: "bench", key: BENCH_API_KEY }] } : {},
});
const running = await startGateway(config, createLogger("warn"));
process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
process.once("SIGTERM", () => {
  void running.close(0).then(() => process.exit(0));
});
