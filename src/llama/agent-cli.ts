import { hostname } from "node:os";
import { z } from "zod";
import type { AgentOptions, NodeAgent } from "./agent.js";
import { type AGENT_FLAGS, CliUsageError } from "./cli-args.js";

export const AGENT_USAGE = `Usage: fleetgate agent --gateway URL --token T --llama URL --id ID [options]

The sidecar of a llama-server node: waits for its model to load, registers it with the gateway,
heartbeats with its /slots and /metrics readings, and on SIGTERM drains, then deregisters.

  --gateway URL      the gateway (env FLEETGATE_GATEWAY)
  --token T          an enrollment token of the gateway (env FLEETGATE_TOKEN)
  --llama URL        llama-server as the agent reaches it (env FLEETGATE_LLAMA_URL; default http://127.0.0.1:8080)
  --id ID            the node's id in the fleet (env FLEETGATE_NODE_ID; default the host name)
  --region CODE      where the node is, e.g. fra (env FLEETGATE_REGION)
  --lat N --lon N    or its coordinates (env FLEETGATE_LAT, FLEETGATE_LON)
  --public-url URL   where the gateway reaches llama-server, when not --llama (env FLEETGATE_PUBLIC_URL)
  --models A,B       models the node claims; verified against its /v1/models (env FLEETGATE_MODELS)
  --drain-timeout S  seconds a drain waits for running requests (default 30)`;

const url = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ""));
const agentSchema = z.object({
  gateway: url,
  token: z.string().min(16, "must be at least 16 characters"),
  llama: url,
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '_', '.' or '-'"),
  region: z.string().min(1).optional(),
  lat: z.coerce.number().min(-90).max(90).optional(),
  lon: z.coerce.number().min(-180).max(180).optional(),
  "public-url": url.optional(),
  models: z
    .string()
    .transform((list) =>
      list
        .split(",")
        .map((m) => m.trim())
        .filter(Boolean),
    )
    .optional(),
  "drain-timeout": z.coerce.number().positive().max(3600).default(30),
});

type Env = Readonly<Record<string, string | undefined>>;

/** Flags win over FLEETGATE_* env (the node image is configured by env). */
export function agentOptions(
  values: Partial<Record<keyof typeof AGENT_FLAGS, string>>,
  env: Env,
  log: (line: string) => void,
  defaults: { llama?: string } = {},
): AgentOptions {
  const raw = {
    gateway: values.gateway ?? values.join ?? env.FLEETGATE_GATEWAY,
    token: values.token ?? env.FLEETGATE_TOKEN,
    llama: values.llama ?? env.FLEETGATE_LLAMA_URL ?? defaults.llama ?? "http://127.0.0.1:8080",
    id:
      values.id ??
      env.FLEETGATE_NODE_ID ??
      hostname()
        .replace(/[^A-Za-z0-9_.-]/g, "-")
        .slice(0, 64),
    region: values.region ?? env.FLEETGATE_REGION,
    lat: values.lat ?? env.FLEETGATE_LAT,
    lon: values.lon ?? env.FLEETGATE_LON,
    "public-url": values["public-url"] ?? env.FLEETGATE_PUBLIC_URL,
    models: values.models ?? env.FLEETGATE_MODELS,
    "drain-timeout": values["drain-timeout"],
  };
  const parsed = agentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliUsageError(`--${String(issue.path[0])}: ${issue.message}`);
  }
  const f = parsed.data;
  return {
    gateway: f.gateway,
    token: f.token,
    llama: f.llama,
    id: f.id,
    region: f.region,
    lat: f.lat,
    lon: f.lon,
    publicUrl: f["public-url"],
    models: f.models,
    drainTimeoutMs: f["drain-timeout"] * 1000,
    log,
  };
}

/**
 * Runs an agent until SIGTERM/SIGINT (drain, wait, deregister) or until the gateway refuses the node.
 * `beforeExit` runs after the agent is done (`fleetgate node --join` stops its llama-server there).
 */
export async function runAgentUntilSignal(agent: NodeAgent, beforeExit?: () => Promise<void>): Promise<void> {
  let stop: (() => void) | undefined;
  const signalled = new Promise<void>((resolve) => {
    stop = resolve;
  });
  process.once("SIGTERM", stop!);
  process.once("SIGINT", stop!);
  try {
    await Promise.race([agent.start().then(() => Promise.race([agent.finished, signalled])), signalled]);
    await agent.stop();
  } finally {
    process.off("SIGTERM", stop!);
    process.off("SIGINT", stop!);
    await beforeExit?.();
  }
}
