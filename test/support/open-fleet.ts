import { buildConfig, type GatewayConfigInput } from "../../src/config/index.js";
import { type RunningGateway, type StartHooks, startGateway } from "../../src/main.js";
import { silentLogger } from "../../src/telemetry/index.js";
import { adminFetch, eventually, TEST_ADMIN_TOKEN } from "./fleet.js";

export const ENROLLMENT_TOKEN = "enroll-test-token-0123456789";

/** A gateway with no configured node, open to registration, syncing its fleet fast. */
export function startOpenGateway(
  extra: Omit<GatewayConfigInput, "nodes"> = {},
  hooks: StartHooks = {},
): Promise<RunningGateway> {
  const config = buildConfig({
    ...extra,
    admin: { token: TEST_ADMIN_TOKEN },
    server: { host: "127.0.0.1", port: 0, ...extra.server },
    health: { interval_ms: 100, timeout_ms: 500 },
    fleet: {
      enrollment_tokens: [ENROLLMENT_TOKEN],
      allow_private_urls: true,
      sync_interval_ms: 100,
      verify_timeout_ms: 5000,
      ...extra.fleet,
    },
  });
  return startGateway(config, silentLogger, {}, hooks);
}

/** One call of the registration API with a token (the enrollment token unless told otherwise). */
export function fleetCall(
  gatewayUrl: string,
  method: "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
  /** null sends no token at all. */
  token: string | null = ENROLLMENT_TOKEN,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${gatewayUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export interface NodeReportView {
  id: string;
  state: string;
  source: string;
  admission: string;
  admission_reason: string | null;
  draining: boolean;
  models: string[];
}

/** What GET /admin/nodes says of one node, or undefined when the gateway does not know it. */
export async function nodeOn(gateway: RunningGateway, id: string): Promise<NodeReportView | undefined> {
  const response = await adminFetch(gateway.url, "/admin/nodes");
  const { nodes } = (await response.json()) as { nodes: NodeReportView[] };
  return nodes.find((node) => node.id === id);
}

/** Waits until every replica's view of node `id` passes `check`; whether it did within `timeoutMs`. */
export function onEveryReplica(
  replicas: readonly RunningGateway[],
  id: string,
  check: (node: NodeReportView | undefined) => boolean,
  timeoutMs: number,
): Promise<boolean> {
  return eventually(
    async () => (await Promise.all(replicas.map((r) => nodeOn(r, id)))).every(check),
    timeoutMs,
  );
}
