import { afterEach, describe, expect, it } from "vitest";
import { NodeAgent } from "../../src/llama/agent.js";
import type { RunningGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { eventually, postJson } from "../support/fleet.js";
import { ENROLLMENT_TOKEN, nodeOn, startOpenGateway } from "../support/open-fleet.js";
import { freePort } from "../support/ports.js";

const FAST = { heartbeat_interval_ms: 150, heartbeat_ttl_ms: 2000 };

describe("the node agent against a simulated llama-server", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  const agentFor = (
    gateway: string,
    sim: SimNode,
    extra: Partial<ConstructorParameters<typeof NodeAgent>[0]> = {},
  ) => {
    const lines: string[] = [];
    const agent = new NodeAgent({
      gateway,
      token: ENROLLMENT_TOKEN,
      llama: sim.url,
      id: "agent-node",
      region: "fra",
      retryMs: 100,
      drainTimeoutMs: 5000,
      log: (line) => lines.push(line),
      ...extra,
    });
    return { agent, lines };
  };

  it("waits for the model to load, registers, heartbeats its readings, drains and deregisters on stop", async () => {
    const gateway = await startOpenGateway({ fleet: FAST });
    cleanups.push(() => gateway.close());
    const sim = await startSimNode({ model: "tiny", loadingMs: 1500, slots: 3, tokensPerSecond: 20 });
    cleanups.push(() => sim.close());
    const { agent, lines } = agentFor(gateway.url, sim);
    const loadedBeforeStart = (await fetch(`${sim.url}/health`)).status === 200;
    await agent.start();
    cleanups.push(() => agent.stop());
    // Registered only once the model had loaded.
    expect(loadedBeforeStart).toBe(false);
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    expect(lines.some((line) => line.includes("waiting for llama-server"))).toBe(true);
    expect(
      await eventually(async () => (await nodeOn(gateway, "agent-node"))?.admission === "verified", 5000),
    ).toBe(true);
    expect(await nodeOn(gateway, "agent-node")).toMatchObject({ slots_total: 3, source: "registered" });

    // A stream is running on the node when the agent is told to stop: it finishes, then the node goes.
    const stream = postJson(`${gateway.url}/v1/chat/completions`, {
      model: "tiny",
      messages: [{ role: "user", content: "count" }],
      // Longer than the TTL: the agent keeps heartbeating while it drains.
      max_tokens: 60,
      stream: true,
    });
    const response = await stream;
    expect(response.status).toBe(200);
    const stopping = agent.stop();
    expect(await eventually(async () => (await nodeOn(gateway, "agent-node"))?.draining === true, 2000)).toBe(
      true,
    );
    const body = await response.text();
    expect(body).toContain("data: [DONE]");
    await stopping;
    expect(await eventually(async () => (await nodeOn(gateway, "agent-node")) === undefined, 2000)).toBe(
      true,
    );
    expect(lines.some((line) => line.startsWith("deregistered: gateway answered 200"))).toBe(true);
  });

  it("registers again by itself after a gateway restart that lost the registry", async () => {
    const sim = await startSimNode({ model: "tiny" });
    cleanups.push(() => sim.close());
    const port = await freePort();
    const first = await startOpenGateway({ fleet: FAST, server: { host: "127.0.0.1", port } });
    const url = first.url;
    const { agent, lines } = agentFor(url, sim);
    await agent.start();
    cleanups.push(() => agent.stop());
    expect(
      await eventually(async () => (await nodeOn(first, "agent-node"))?.admission === "verified", 5000),
    ).toBe(true);
    await first.close();
    let second: RunningGateway | undefined;
    second = await startOpenGateway({ fleet: FAST, server: { host: "127.0.0.1", port } });
    cleanups.push(() => second!.close());
    // An in-memory store: the new gateway knows nothing until the agent's next heartbeat finds it out.
    expect(
      await eventually(async () => (await nodeOn(second!, "agent-node"))?.admission === "verified", 5000),
    ).toBe(true);
    expect(lines.some((line) => line.includes("registering again"))).toBe(true);
  });

  it("stops with a clear error when the gateway refuses its token", async () => {
    const sim = await startSimNode({ model: "tiny" });
    cleanups.push(() => sim.close());
    const gateway = await startOpenGateway({ fleet: FAST });
    cleanups.push(() => gateway.close());
    const { agent } = agentFor(gateway.url, sim, { token: "not-the-enrollment-token" });
    await expect(agent.start()).rejects.toThrow(/refused the registration.*invalid_enrollment_token/);
  });
});
