/**
 * The client suite's fleet: real llama-servers and a gateway in front of them, so every client can
 * be run twice, once straight at llama-server and once through the gateway, and the two compared.
 * Chat runs on a `--jinja` node (tools need it), embeddings on an `--embeddings` node: llama-server
 * with `--embeddings` serves nothing else, and its OpenAI route needs a pooling (`--pooling mean`). Sampling is greedy (temperature 0, a fixed seed), so a
 * direct answer and a gateway answer to one request are the same text.
 */
import { expect } from "vitest";
import { buildConfig } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import { silentLogger } from "../../src/telemetry/index.js";
import { type LlamaNode, startLlamaNode, TINY_MODEL_ALIAS } from "../e2e/llama-harness.js";

export const CHAT_MODEL = TINY_MODEL_ALIAS;
export const EMBED_MODEL = "tiny-embed";
/** A name an app hard-codes; the gateway's models.aliases maps it to the chat model. */
export const APP_MODEL = "gpt-4o-mini";
export const N_CTX = 1024;
export const GREEDY = { temperature: 0, seed: 7 } as const;

export interface Target {
  readonly name: "direct" | "gateway";
  /** The OpenAI base URL (ends in /v1) for chat... */
  readonly chatURL: string;
  /** ...and for embeddings: one node straight, the same gateway through it. */
  readonly embedURL: string;
}

export interface ClientRig {
  readonly direct: Target;
  readonly gateway: Target;
  readonly targets: readonly Target[];
  readonly chatNode: LlamaNode;
  readonly running: RunningGateway;
  close(): Promise<void>;
}

export async function startClientRig(): Promise<ClientRig> {
  const [chatNode, embedNode] = await Promise.all([
    startLlamaNode({ index: 0, ctxSize: N_CTX, slots: 2, extraArgs: ["--jinja"] }),
    startLlamaNode({
      index: 1,
      ctxSize: N_CTX,
      alias: EMBED_MODEL,
      embeddings: true,
      extraArgs: ["--pooling", "mean"],
    }),
  ]);
  const config = buildConfig({
    server: { host: "127.0.0.1", port: 0, cors: { origins: ["*"] } },
    health: { interval_ms: 200, timeout_ms: 1000, unhealthy_threshold: 2, healthy_threshold: 1 },
    models: { aliases: { [APP_MODEL]: CHAT_MODEL } },
    nodes: [
      { id: "chat", url: chatNode.url },
      { id: "embed", url: embedNode.url },
    ],
  });
  const running = await startGateway(config, silentLogger);
  const direct: Target = { name: "direct", chatURL: `${chatNode.url}/v1`, embedURL: `${embedNode.url}/v1` };
  const gateway: Target = { name: "gateway", chatURL: `${running.url}/v1`, embedURL: `${running.url}/v1` };
  return {
    direct,
    gateway,
    targets: [direct, gateway],
    chatNode,
    running,
    async close() {
      await running.close();
      await Promise.all([chatNode.stop(), embedNode.stop()]);
    },
  };
}

/** Runs one client call against both targets, one after the other (each node has few slots). */
export async function onBoth<T>(
  rig: ClientRig,
  call: (target: Target) => Promise<T>,
): Promise<{ direct: T; gateway: T }> {
  const direct = await call(rig.direct);
  const gateway = await call(rig.gateway);
  return { direct, gateway };
}

/** Embeddings through the gateway are the node's own: equal to within float printing. */
export function expectSameVectors(
  got: readonly (readonly number[])[],
  want: readonly (readonly number[])[],
): void {
  expect(got.length).toBe(want.length);
  expect(got.length).toBeGreaterThan(0);
  for (const [i, vector] of got.entries()) {
    expect(vector.length).toBe(want[i]?.length);
    for (const [d, value] of vector.entries()) expect(value).toBeCloseTo(want[i]?.[d] ?? Number.NaN, 5);
  }
}
