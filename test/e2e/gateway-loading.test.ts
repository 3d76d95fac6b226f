/**
 * A gateway that starts before its only node has loaded its model: not ready, the node seen as
 * `loading` (llama-server's 503 "Loading model"), then ready, without a restart or a manual step.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type LlamaServerHandle, startLlamaServer } from "../../src/llama/server.js";
import { type E2eGateway, startE2eGateway, waitFor } from "./gateway-fleet.js";
import { ensureLlamaServerBinary, ensureTinyModel, freePort, TINY_MODEL_ALIAS } from "./llama-harness.js";

// The tiny model itself loads in a few milliseconds; allocating a 1M-token KV cache keeps
// llama-server in its loading phase for about half a second, long enough to watch from outside.
const LOADING_CTX = 1 << 20;

let gw: E2eGateway | undefined;
let server: LlamaServerHandle | undefined;
afterEach(async () => {
  await gw?.close();
  await server?.stop();
});

describe("a gateway started while its node is still loading", () => {
  it("is not ready, sees the node loading, then serves once the model is in memory", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    gw = await startE2eGateway([url], 50);
    const readyz = async () => (await fetch(`${gw?.gateway.url}/readyz`)).status;
    expect(await readyz()).toBe(503);

    server = await startLlamaServer({
      binary: await ensureLlamaServerBinary(),
      model: await ensureTinyModel(),
      port,
      threads: 1,
      slots: 1,
      ctxSize: LOADING_CTX,
      alias: TINY_MODEL_ALIAS,
      waitReady: false,
    });
    const states: string[] = [];
    const nodeSaid = new Set<string>();
    let readyWhileLoading = false;
    const becameReady = await waitFor(
      async () => {
        // A probe round on top of the 50 ms timer (the config's floor), so the window is sampled often.
        await gw?.gateway.probeNow();
        const [direct, [node], ready] = await Promise.all([
          fetch(`${url}/health`).then(
            async (r) => `${r.status} ${await r.text()}`,
            () => "refused",
          ),
          gw?.adminNodes() ?? [],
          readyz(),
        ]);
        nodeSaid.add(direct.startsWith("503") ? direct : direct.slice(0, 3));
        if (node && node.state !== states.at(-1)) states.push(node.state);
        if (node?.state === "loading" && ready === 200) readyWhileLoading = true;
        return node?.state === "healthy" && ready === 200;
      },
      30_000,
      10,
    );

    expect(becameReady, `states seen: ${states.join(" → ")}`).toBeDefined();
    expect([...nodeSaid].some((said) => /^503 .*Loading model/.test(said))).toBe(true);
    expect(states).toContain("loading");
    expect(states.indexOf("loading")).toBeLessThan(states.lastIndexOf("healthy"));
    expect(readyWhileLoading).toBe(false);
    const answer = await gw.client.chat.completions.create({
      model: TINY_MODEL_ALIAS,
      messages: [{ role: "user", content: "Are you up?" }],
      max_tokens: 4,
    });
    expect(answer.usage?.completion_tokens).toBeGreaterThan(0);
  });
});
