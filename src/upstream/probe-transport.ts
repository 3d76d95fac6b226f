import type { NodeRecord, ProbeResponse, ProbeTransport } from "../fleet/index.js";
import { readBody, sendToNode } from "./dispatch.js";
import type { UpstreamPools } from "./pools.js";

const PROBE_BODY_LIMIT = 1024 * 1024;

/** Probes travel over the same keep-alive pools as traffic, so their round trip is what requests see. */
export function createProbeTransport(pools: UpstreamPools): ProbeTransport {
  const send = async (node: NodeRecord, path: string, timeoutMs: number, body?: string) => {
    const started = performance.now();
    const response = await sendToNode(
      pools,
      { id: node.id, url: node.url, apiKey: node.apiKey },
      {
        method: body === undefined ? "GET" : "POST",
        path,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      },
    );
    const elapsedMs = performance.now() - started;
    const text = await readBody(response.body, PROBE_BODY_LIMIT);
    return { status: response.status, body: text.toString("utf8"), elapsedMs };
  };
  return {
    get: (node, path, timeoutMs): Promise<ProbeResponse> => send(node, path, timeoutMs),
    post: (node, path, body, timeoutMs): Promise<ProbeResponse> => send(node, path, timeoutMs, body),
  };
}
