/**
 * The gateway under test, as its own process so that its CPU time and RSS can be read from /proc
 * without the load generator's. Arguments: the upstream URL, then `--auth` to require the bench's
 * API key (one key in the config, as most deployments have), `--telemetry` to turn on metrics and
 * the access log (off otherwise, so the plain target measures the pipeline alone) and with it
 * `--otlp=R` to export metrics and the spans of a share R of calls over OTLP; `--redis=<url>` keeps the
 * shared state (affinity memory, keys, the ledger) in that Redis, as replicas share it, and with it
 * `--quotas` gives the key request and token limits (never reached), reserved and settled there;
 * `--cache-off` turns the prompt cache off (it is on by default, and the bench's requests, without
 * temperature 0, bypass it).
 * Prints `{"url":...}` once listening; on SIGTERM closes and exits cleanly, which is when
 * `--cpu-prof` writes its profile.
 */
import { openSync, writeSync } from "node:fs";
import { buildConfig } from "../../src/config/index.js";
import { startGateway } from "../../src/main.js";
import { batchedLines, createLogger } from "../../src/telemetry/index.js";
import { BENCH_API_KEY } from "./protocol.js";

const [upstream, ...flags] = process.argv.slice(2);
const otlp = flags.find((flag) => flag.startsWith("--otlp="));
const redisFlag = flags.find((flag) => flag.startsWith("--redis="));
const redis = redisFlag?.slice("--redis=".length);
const quotas = flags.includes("--quotas");
const known = new Set(["--auth", "--telemetry", "--cache-off", "--quotas", otlp, redisFlag]);
if (!upstream || flags.some((flag) => !known.has(flag))) {
  throw new Error(
    "usage: gateway-entry.ts <upstream url> [--auth] [--telemetry [--otlp=<trace ratio>]] [--redis=<url> [--quotas]] [--cache-off]",
  );
}
const auth = flags.includes("--auth");
const telemetry = flags.includes("--telemetry");

const config = buildConfig({
  server: { host: "127.0.0.1", port: 0 },
  location: { region: "fra" },
  // The production defaults: latency routing with prefix affinity in the embedded store.
  routing: { strategy: "latency" },
  // Room for the 5,000-stream test: each open stream holds one upstream connection.
  upstream: { max_connections_per_node: 8192 },
  nodes: [{ id: "bench-1", url: upstream, region: "fra" }],
  auth: auth || quotas ? { keys: [{ id: "bench", tenant: "bench", key: BENCH_API_KEY, ...limits() }] } : {},
  ...(redis ? { store: { redis_url: redis, key_prefix: `fleetgate-bench:${process.pid}:` } } : {}),
  metrics: { enabled: telemetry },
  access_log: { enabled: telemetry },
  cache: { mode: flags.includes("--cache-off") ? "off" : "deterministic" },
});
// With telemetry every access log line is written as the default logger writes stderr (batched
// per event-loop turn), to /dev/null so the bench's console stays readable. With --otlp metrics go
// over OTLP/HTTP every 5 s to the upstream's receiver, and the spans of the given share of calls.
const devNull = openSync("/dev/null", "w");
const log = telemetry
  ? createLogger(
      "info",
      batchedLines((chunk) => writeSync(devNull, chunk)),
    )
  : createLogger("warn");
const env = otlp
  ? {
      OTEL_EXPORTER_OTLP_ENDPOINT: upstream,
      OTEL_METRIC_EXPORT_INTERVAL: "5000",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: otlp.slice("--otlp=".length),
    }
  : {};
const running = await startGateway(config, log, env);
process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
process.once("SIGTERM", () => {
  void running.close(0).then(() => process.exit(0));
});

/** Limits so high the bench never meets them: what is measured is enforcing them. */
function limits() {
  if (!quotas) return {};
  return { limits: { requests_per_minute: 1_000_000_000, tokens_per_minute: 1_000_000_000_000 } };
}
