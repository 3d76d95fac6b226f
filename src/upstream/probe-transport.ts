import type { ProbeResponse, ProbeTransport } from "../fleet/index.js";
import { readBody, sendToNode } from "./dispatch.js";
import type { UpstreamPools } from "./pools.js";

const PROBE_BODY_LIMIT = 1024 * 1024;

/** Probes travel over the same keep-alive pools as traffic, so their round trip is what requests see. */
export function createProbeTransport(pools: UpstreamPools): ProbeTransport {
  return {
    async get(node, path, timeoutMs): Promise<ProbeResponse> {
      const started = performance.now();
      const response = await sendToNode(
        pools,
        { id: node.id, url: node.url, apiKey: node.apiKey },
        {
          method: "GET",
          path,
          signal: AbortSignal.timeout(timeoutMs),
        },
      );
      const elapsedMs = performance.now() - started;
      const body = await readBody(response.body, PROBE_BODY_LIMIT);
      return { status: response.status, body: body.toString("utf8"), elapsedMs };
    },
  };
}
