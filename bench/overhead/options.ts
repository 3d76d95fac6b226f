/** Command-line options; the defaults are the full run (about five minutes on two cores). */
import { parseArgs } from "node:util";

export interface BenchOptions {
  readonly reps: number;
  /** Closed-loop requests per measurement at concurrency 1. */
  readonly latencyRequests: number;
  /** Closed-loop requests per measurement at the throughput concurrency. */
  readonly throughputRequests: number;
  readonly throughputConcurrency: number;
  /** Length of one open-loop rate step. */
  readonly stepMs: number;
  /** Bisection steps in the search for the highest rate with p99 under the bound. */
  readonly searchSteps: number;
  readonly streamChunks: number;
  readonly streamConcurrency: number;
  readonly streamMs: number;
  readonly holdStreams: number;
  readonly skipNginx: boolean;
  /** Profile the gateway under non-streamed load instead of the full run. */
  readonly profile: boolean;
  readonly profileRequests: number;
  /** Write results files (off for quick trial runs). */
  readonly write: boolean;
  /** The telemetry target also exports over OTLP, tracing this share of calls; undefined: no OTLP. */
  readonly traceRatio: number | undefined;
  /** The Redis the quotas target keeps its limits in. */
  readonly redisUrl: string;
}

const HELP = `npm run bench:overhead -- [--quick] [--reps N] [--hold N] [--no-nginx] [--profile] [--no-write] [--trace-ratio R] [--redis URL]
  --quick      one repetition, shorter phases (a smoke run; results are not written)
  --reps N     repetitions of every figure (default 3)
  --hold N     open streams held for the memory figure (default 5000)
  --no-nginx   skip the nginx reference even when it is installed
  --profile    run the gateway under --cpu-prof with non-streamed load and summarise where CPU goes
  --no-write   print only; leave bench/results untouched
  --trace-ratio R  the telemetry target also exports metrics and spans over OTLP (to the upstream), tracing a share R of calls
  --redis URL  the Redis of the fleetgate+quotas target (default redis://127.0.0.1:6379)`;

export function readOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      reps: { type: "string" },
      hold: { type: "string" },
      "no-nginx": { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      "no-write": { type: "boolean", default: false },
      "trace-ratio": { type: "string" },
      redis: { type: "string", default: "redis://127.0.0.1:6379" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = values.quick;
  const count = (text: string | undefined, fallback: number) => {
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`expected a positive integer, got '${text}'`);
    return value;
  };
  return {
    reps: count(values.reps, quick ? 1 : 3),
    latencyRequests: quick ? 1000 : 3000,
    throughputRequests: quick ? 3000 : 10_000,
    throughputConcurrency: 32,
    stepMs: quick ? 1000 : 2000,
    searchSteps: quick ? 3 : 4,
    streamChunks: 50,
    streamConcurrency: 100,
    streamMs: quick ? 1500 : 3000,
    holdStreams: count(values.hold, quick ? 1000 : 5000),
    skipNginx: values["no-nginx"],
    profile: values.profile,
    profileRequests: 40_000,
    write: !quick && !values["no-write"] && !values.profile,
    traceRatio: ratio(values["trace-ratio"]),
    redisUrl: values.redis,
  };
}

function ratio(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value >= 0 && value <= 1))
    throw new Error(`--trace-ratio takes a share between 0 and 1, got '${text}'`);
  return value;
}
