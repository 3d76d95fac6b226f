import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { buildConfig, type GatewayConfigInput } from "../../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../../src/main.js";
import { silentLogger } from "../../../src/telemetry/index.js";
import { adminNodes } from "../../faults/support/admin.js";
import { TEST_ADMIN_TOKEN } from "../../support/fleet.js";

/**
 * A hand-written node for what the sim will not do: it answers the probes like llama-server
 * (healthy, model `tiny`) and hands every inference request to `answer`.
 */
export interface HostileNode {
  readonly url: string;
  /** Inference requests received. */
  readonly requests: () => number;
  close(): Promise<void>;
}

export async function hostileNode(
  answer: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
  /** Other GET routes and the JSON they answer (`/props`, `/slots`...); the rest are 404. */
  probes: Readonly<Record<string, unknown>> = {},
): Promise<HostileNode> {
  let requests = 0;
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    if (req.method === "GET" && Object.hasOwn(probes, path)) return json(res, 200, probes[path]);
    if (req.method === "GET" && path === "/health") return json(res, 200, { status: "ok" });
    if (req.method === "GET" && path === "/v1/models") {
      return json(res, 200, {
        object: "list",
        data: [{ id: "tiny", object: "model", owned_by: "llamacpp" }],
      });
    }
    if (req.method === "POST") {
      requests += 1;
      req.resume();
      req.once("end", () => void answer(req, res));
      return;
    }
    json(res, 404, { error: { code: 404, message: "File Not Found", type: "not_found_error" } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A gateway in front of the given node URLs (node-0, node-1, ...), probing fast. */
export function gatewayOn(
  urls: readonly string[],
  config: Omit<GatewayConfigInput, "nodes"> = {},
): Promise<RunningGateway> {
  return startGateway(
    buildConfig({
      ...config,
      admin: { token: TEST_ADMIN_TOKEN },
      server: { host: "127.0.0.1", port: 0, keepalive_interval_ms: 200, ...config.server },
      health: { interval_ms: 100, timeout_ms: 500, unhealthy_threshold: 2, healthy_threshold: 2 },
      nodes: urls.map((url, i) => ({ id: `node-${i}`, url })),
    }),
    silentLogger,
  );
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Event-loop delay over a stretch of a test, in milliseconds. */
export function loopDelay(): { stop(): { p99: number; max: number } } {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 };
    },
  };
}

/** Every state other than healthy that the given nodes were seen in, polling /admin/nodes. */
export function watchDowns(gatewayURL: string, ids: readonly string[], everyMs = 50) {
  const downs: string[] = [];
  let polling = false;
  const timer = setInterval(async () => {
    if (polling) return;
    polling = true;
    try {
      for (const node of await adminNodes(gatewayURL)) {
        if (ids.includes(node.id) && (node.state !== "healthy" || node.breaker !== "closed")) {
          downs.push(`${node.id}: ${node.state}, breaker ${node.breaker}`);
        }
      }
    } catch {
      // The gateway closing at the end of a test.
    } finally {
      polling = false;
    }
  }, everyMs);
  return {
    stop(): readonly string[] {
      clearInterval(timer);
      return downs;
    },
  };
}

export interface BusyUntil<T> {
  /** What the stretch must have seen before it ends; a loaded machine takes longer to get there. */
  readonly enough: (results: readonly T[]) => boolean;
  /** Ends the stretch even without enough, so the test's assertions say what was missing. */
  readonly maxMs: number;
}

/**
 * Runs `work` over and over, `concurrency` at a time, until `ms` have passed and, when told, until
 * there is enough; returns every result.
 */
export async function keepBusy<T>(
  ms: number,
  concurrency: number,
  work: () => Promise<T>,
  until?: BusyUntil<T>,
): Promise<T[]> {
  const started = Date.now();
  const results: T[] = [];
  const busy = () => {
    const elapsed = Date.now() - started;
    if (elapsed < ms) return true;
    return until !== undefined && elapsed < until.maxMs && !until.enough(results);
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (busy()) results.push(await work());
    }),
  );
  return results;
}
