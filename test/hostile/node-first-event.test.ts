import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { postJson } from "../support/fleet.js";
import { gatewayOn, type HostileNode, hostileNode } from "./support/node-harness.js";

/**
 * Issue 15, finding 2: a stream whose first event was `data: {not json}` was relayed to the client
 * as 200, then `[DONE]`: the relay skipped parsing events that merely look like JSON objects, the
 * opening included. Whatever a node opens its stream with is now parsed before anything is relayed;
 * an opening that is not a JSON chunk is the node's fault, and the request moves to another node.
 */
const CHAT = { model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 4, stream: true };
const OK_CHUNK = 'data: {"id":"c1","object":"chat.completion.chunk","choices":[]}\n\n';

let gateway: RunningGateway | undefined;
let hostile: HostileNode | undefined;
let sim: SimNode | undefined;
afterEach(async () => {
  await gateway?.close();
  await hostile?.close();
  await sim?.close();
  gateway = hostile = sim = undefined;
});

/** A node that answers every stream with these chunks, each written on its own. */
function opensWith(chunks: readonly string[]): Promise<HostileNode> {
  return hostileNode(async (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const chunk of chunks) {
      res.write(chunk);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    res.end();
  });
}

const OPENINGS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["garbage that looks like an object", ["data: {not json}\n\n", "data: [DONE]\n\n"]],
  ["a comment, then garbage", [": hello\n\n", "data: {not json}\n\n", "data: [DONE]\n\n"]],
  ["a good chunk and garbage in one piece", [`${OK_CHUNK}data: {oops}\n\n`, "data: [DONE]\n\n"]],
  ["[DONE] and nothing else", ["data: [DONE]\n\n"]],
  ["a JSON value that is not an object", ["data: 42\n\n", "data: [DONE]\n\n"]],
];

describe("a stream's opening is parsed before anything is relayed", () => {
  it.each(OPENINGS)("%s: a 502 from the only node, never a 200", async (_, chunks) => {
    hostile = await opensWith(chunks);
    gateway = await gatewayOn([hostile.url]);
    const response = await postJson(`${gateway.url}/v1/chat/completions`, CHAT);
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "upstream_malformed_response",
    );
  });

  it("with another node, the request fails over and the client gets a whole answer", async () => {
    hostile = await opensWith(["data: {not json}\n\n", "data: [DONE]\n\n"]);
    sim = await startSimNode({ ttftMs: 5, tokensPerSecond: 500 });
    gateway = await gatewayOn([hostile.url, sim.url], {
      routing: { strategy: "round-robin", affinity: false },
    });
    for (let i = 0; i < 4; i++) {
      const response = await postJson(`${gateway.url}/v1/chat/completions`, CHAT);
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(text).not.toContain("not json");
      expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    }
    expect(hostile.requests()).toBeGreaterThan(0);
  });

  it("an error event as the opening is judged like the same error status: a client's 400 is final", async () => {
    const error = { code: 400, message: "bad sampling parameters", type: "invalid_request_error" };
    hostile = await opensWith([`data: ${JSON.stringify({ error })}\n\n`]);
    sim = await startSimNode({ ttftMs: 5 });
    gateway = await gatewayOn([hostile.url, sim.url], {
      routing: { strategy: "round-robin", affinity: false },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await postJson(`${gateway.url}/v1/chat/completions`, CHAT)).status);
    }
    // Round-robin: every other request goes to the hostile node first and is not tried elsewhere.
    expect(statuses.filter((status) => status === 400)).toHaveLength(2);
    expect(statuses.filter((status) => status === 200)).toHaveLength(2);
    expect(sim.stats().completionRequests).toBe(2);
  });
});
