import { describe, expect, it } from "vitest";
import { startSimNode } from "../../../src/sim/index.js";
import { chatBody, json, post, readSomeEvents, sim, until } from "./helpers.js";

describe("sim node: loading, auth and shutdown", () => {
  it("answers 503 Loading model during loadingMs, except the model list, then becomes ready", async () => {
    // Long enough that a loaded machine still asks while the model loads; the test waits for ready.
    const node = await sim({ loadingMs: 2000 });
    const health = await fetch(`${node.url}/health`);
    expect(health.status).toBe(503);
    expect(await json(health)).toEqual({
      error: { code: 503, message: "Loading model", type: "unavailable_error" },
    });
    expect((await post(node, "/v1/chat/completions", chatBody())).status).toBe(503);
    expect((await fetch(`${node.url}/v1/models`)).status).toBe(200);
    await until(async () => (await fetch(`${node.url}/health`)).status === 200);
    expect((await post(node, "/v1/chat/completions", chatBody("x", { max_tokens: 1 }))).status).toBe(200);
  });

  it("requires the API key like llama-server, with health and models public", async () => {
    const node = await sim({ apiKey: "sekret" });
    const denied = await post(node, "/v1/chat/completions", chatBody());
    expect(denied.status).toBe(401);
    expect(await json(denied)).toEqual({
      error: { code: 401, message: "Invalid API Key", type: "authentication_error" },
    });
    expect((await fetch(`${node.url}/props`)).status).toBe(401);
    const body = chatBody("x", { max_tokens: 1 });
    expect(
      (await post(node, "/v1/chat/completions", body, { headers: { authorization: "Bearer sekret" } }))
        .status,
    ).toBe(200);
    expect(
      (await post(node, "/v1/chat/completions", body, { headers: { "x-api-key": "sekret" } })).status,
    ).toBe(200);
    expect(
      (await post(node, "/v1/chat/completions", body, { headers: { "x-api-key": "wrong" } })).status,
    ).toBe(401);
    for (const path of ["/health", "/v1/health", "/models", "/v1/models"]) {
      expect((await fetch(node.url + path)).status).toBe(200);
    }
  });

  it("close() lets a running stream finish, then stops listening", async () => {
    const node = await startSimNode({ ttftMs: 1, tokensPerSecond: 200 });
    const res = await post(node, "/v1/chat/completions", chatBody("x", { stream: true, max_tokens: 10 }));
    const closed = node.close();
    const text = await res.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    await closed;
    await expect(fetch(`${node.url}/health`)).rejects.toThrow();
  });

  it("kill() drops every connection at once", async () => {
    const node = await startSimNode({ ttftMs: 1, tokensPerSecond: 100 });
    const res = await post(node, "/v1/chat/completions", chatBody("x", { stream: true, max_tokens: 200 }));
    const { reader } = await readSomeEvents(res, 2);
    node.kill();
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
    ).rejects.toThrow();
    await expect(fetch(`${node.url}/health`)).rejects.toThrow();
  });
});
