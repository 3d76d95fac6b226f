import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A pass-through HTTP proxy in front of one node that can hold inference requests for a while before
 * forwarding them, switched at run time. It stands in for a node that turns slow in the middle of a
 * run: the sim has no run-time knob for "first token N ms later" (its `ttftMs` is fixed at start),
 * and its faults either break requests or throttle every byte, neither of which is "slow".
 * Probes (`/health`, `/slots`, ...) pass undelayed, as on a node whose GPU is busy but whose HTTP
 * server is fine.
 */
export interface DelayProxy {
  readonly url: string;
  /** Delay added before each inference request is forwarded; 0 turns it off. */
  setDelayMs(ms: number): void;
  close(): Promise<void>;
}

const INFERENCE_PATH = /\/(chat\/)?completions$/;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "content-length"]);

export async function startDelayProxy(target: string): Promise<DelayProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let delayMs = 0;
  const server = createServer((req, res) => {
    const hold = req.method === "POST" && INFERENCE_PATH.test(req.url ?? "") ? delayMs : 0;
    forwardAfter(hold, req, res, upstream, agent);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setDelayMs: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function forwardAfter(
  delayMs: number,
  req: IncomingMessage,
  res: ServerResponse,
  upstream: URL,
  agent: Agent,
): void {
  let gone = false;
  // The gateway hangs up when its client gives up; the node must then never see the request.
  res.once("close", () => {
    gone = true;
  });
  const body: Buffer[] = [];
  req.on("data", (chunk: Buffer) => body.push(chunk));
  req.once("end", () => {
    const timer = setTimeout(() => {
      if (!gone) forward(req, Buffer.concat(body), res, upstream, agent);
    }, delayMs);
    res.once("close", () => clearTimeout(timer));
  });
}

function forward(req: IncomingMessage, body: Buffer, res: ServerResponse, upstream: URL, agent: Agent): void {
  let finished = false;
  const out = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...endToEnd(req.headers), host: upstream.host, "content-length": String(body.length) },
      agent,
    },
    (upstreamRes) => {
      upstreamRes.once("end", () => {
        finished = true;
      });
      res.writeHead(upstreamRes.statusCode ?? 502, endToEnd(upstreamRes.headers));
      upstreamRes.pipe(res);
    },
  );
  // Closing the node's request frees its slot, as the gateway's own abort would.
  res.once("close", () => {
    if (!finished) out.destroy();
  });
  out.once("error", () => res.destroy());
  out.end(body);
}

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}
