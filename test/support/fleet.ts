import OpenAI from "openai";
import { buildConfig, type GatewayConfigInput } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import { type SimNode, type SimNodeOptions, startSimNode } from "../../src/sim/index.js";
import { type EnvVars, type Logger, silentLogger } from "../../src/telemetry/index.js";

/** The admin token every test gateway gets, so tests can read /admin/*. */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

/** GET on an admin route with the test admin token. */
export function adminFetch(baseURL: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${baseURL}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(init.headers as Record<string, string>) },
  });
}

export interface TestFleet {
  readonly gateway: RunningGateway;
  readonly sims: SimNode[];
  readonly client: OpenAI;
  readonly baseURL: string;
  close(): Promise<void>;
}

export interface FleetOptions {
  /** Node-level config extras (region, models, api_key...) by index. */
  readonly nodeConfig?: ReadonlyArray<Record<string, unknown>>;
  readonly config?: Omit<GatewayConfigInput, "nodes">;
  /** Where the gateway logs; silent unless a test reads the lines. */
  readonly log?: Logger;
  /** The environment the gateway reads OTEL_* variables from; empty unless a test sets some. */
  readonly env?: EnvVars;
}

/** Simulated nodes with a gateway in front, on ephemeral ports, with fast health probes. */
export async function startFleet(nodes: SimNodeOptions[], options: FleetOptions = {}): Promise<TestFleet> {
  const sims = await Promise.all(nodes.map((node) => startSimNode(node)));
  const { config: extra = {} } = options;
  const config = buildConfig({
    ...extra,
    admin: { token: TEST_ADMIN_TOKEN, ...extra.admin },
    server: { host: "127.0.0.1", port: 0, keepalive_interval_ms: 200, ...extra.server },
    health: {
      interval_ms: 100,
      timeout_ms: 500,
      unhealthy_threshold: 2,
      healthy_threshold: 2,
      ...extra.health,
    },
    nodes: sims.map((sim, i) => ({ id: `node-${i}`, url: sim.url, ...options.nodeConfig?.[i] })),
  });
  const gateway = await startGateway(config, options.log ?? silentLogger, options.env);
  const baseURL = `${gateway.url}/v1`;
  const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
  return {
    gateway,
    sims,
    client,
    baseURL,
    async close() {
      await gateway.close();
      await Promise.all(sims.map((sim) => sim.close().catch(() => undefined)));
    },
  };
}

/** Polls until the check passes or the time is up; returns whether it passed. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

export function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}
