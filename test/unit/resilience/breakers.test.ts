import { afterEach, describe, expect, it } from "vitest";
import { errors, GatewayError } from "../../../src/errors.js";
import { type BreakerState, NodeBreakers } from "../../../src/resilience/index.js";
import { NodeFault } from "../../../src/upstream/index.js";

const RESET_MS = 80;
const fault = () => new NodeFault("a", errors.upstreamUnreachable("a", new Error("ECONNREFUSED")));
const clientError = () => errors.invalidRequest("bad", null);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let breakers: NodeBreakers;
afterEach(() => breakers.shutdown());

function make(settings = {}) {
  breakers = new NodeBreakers({
    settings: { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeoutMs: RESET_MS, ...settings },
  });
  return breakers;
}

async function failTimes(nodeId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await expect(breakers.run(nodeId, () => Promise.reject(fault()))).rejects.toBeInstanceOf(NodeFault);
  }
}

async function openBreaker(nodeId: string): Promise<void> {
  await failTimes(nodeId, 4);
  expect(breakers.state(nodeId)).toBe("open");
}

describe("NodeBreakers", () => {
  it("passes results and node faults through while closed", async () => {
    make();
    await expect(breakers.run("a", async () => 42)).resolves.toBe(42);
    await expect(breakers.run("a", () => Promise.reject(fault()))).rejects.toBeInstanceOf(NodeFault);
    expect(breakers.state("a")).toBe("closed");
    expect(breakers.state("never-seen")).toBe("closed");
  });

  it("stays closed below the volume threshold even at 100% errors", async () => {
    make();
    await failTimes("a", 3);
    expect(breakers.state("a")).toBe("closed");
    expect(breakers.isOpen("a")).toBe(false);
  });

  it("opens once the volume threshold is met and the error rate passes the threshold", async () => {
    make();
    for (let i = 0; i < 3; i++) await breakers.run("a", async () => "ok");
    await failTimes("a", 3);
    expect(breakers.state("a")).toBe("closed"); // 3 of 6: not above 50%
    await failTimes("a", 1);
    expect(breakers.state("a")).toBe("open");
    expect(breakers.isOpen("a")).toBe(true);
    expect(breakers.state("b")).toBe("closed");
  });

  it("never counts a client's errors against the node", async () => {
    make();
    for (let i = 0; i < 10; i++) {
      await expect(breakers.run("a", () => Promise.reject(clientError()))).rejects.toMatchObject({
        code: "invalid_request",
      });
    }
    expect(breakers.state("a")).toBe("closed");
    expect(breakers.snapshot().a).toMatchObject({ failures: 0, successes: 10 });
  });

  it("rejects fast with node_breaker_open while open, without calling the work", async () => {
    make();
    await openBreaker("a");
    let called = false;
    const started = performance.now();
    const err = await breakers
      .run("a", async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(10);
    expect(called).toBe(false);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({
      message: expect.stringContaining("'a'"),
      status: 503,
      code: "node_breaker_open",
    });
    expect((err as GatewayError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(breakers.snapshot().a).toMatchObject({ state: "open", failures: 4, rejects: 1 });
  });

  it("goes half-open after the reset timeout and lets exactly one trial through", async () => {
    make();
    await openBreaker("a");
    await sleep(RESET_MS + 30);
    expect(breakers.state("a")).toBe("half-open");
    expect(breakers.isOpen("a")).toBe(false);

    let finishTrial: (value: string) => void = () => {};
    const trial = breakers.run("a", () => new Promise<string>((resolve) => (finishTrial = resolve)));
    expect(breakers.isOpen("a")).toBe(true); // its one trial is in flight
    await expect(breakers.run("a", async () => "second")).rejects.toMatchObject({
      code: "node_breaker_open",
    });

    finishTrial("trial ok");
    await expect(trial).resolves.toBe("trial ok");
    expect(breakers.state("a")).toBe("closed");
    // The window starts afresh: old failures cannot re-open a recovered node at once.
    expect(breakers.snapshot().a).toMatchObject({ failures: 0, rejects: 0 });
    await failTimes("a", 1);
    expect(breakers.state("a")).toBe("closed");
  });

  it("re-opens when the half-open trial fails", async () => {
    make();
    await openBreaker("a");
    await sleep(RESET_MS + 30);
    await failTimes("a", 1);
    expect(breakers.state("a")).toBe("open");
    await expect(breakers.run("a", async () => 1)).rejects.toMatchObject({ code: "node_breaker_open" });
  });

  it("tells listeners about every transition", async () => {
    make();
    const seen: Array<[string, BreakerState]> = [];
    const stop = breakers.onStateChange((nodeId, state) => seen.push([nodeId, state]));
    await openBreaker("a");
    await sleep(RESET_MS + 30);
    await breakers.run("a", async () => "ok");
    expect(seen).toEqual([
      ["a", "open"],
      ["a", "half-open"],
      ["a", "closed"],
    ]);
    stop();
    await openBreaker("a");
    expect(seen).toHaveLength(3);
  });

  it("accepts its own notion of a node fault", async () => {
    breakers = new NodeBreakers({
      settings: { volumeThreshold: 2 },
      isNodeFault: (err) => err instanceof Error && err.message === "node",
    });
    await expect(breakers.run("a", () => Promise.reject(new Error("client")))).rejects.toThrow("client");
    await expect(breakers.run("a", () => Promise.reject(new Error("client")))).rejects.toThrow("client");
    expect(breakers.state("a")).toBe("closed");
    await expect(breakers.run("a", () => Promise.reject(new Error("node")))).rejects.toThrow("node");
    await expect(breakers.run("a", () => Promise.reject(new Error("node")))).rejects.toThrow("node");
    await expect(breakers.run("a", () => Promise.reject(new Error("node")))).rejects.toThrow("node");
    expect(breakers.state("a")).toBe("open");
  });

  it("forgets removed nodes and runs unprotected after shutdown", async () => {
    make();
    await openBreaker("a");
    breakers.remove("a");
    expect(breakers.snapshot()).toEqual({});
    expect(breakers.state("a")).toBe("closed");
    await openBreaker("a");
    breakers.shutdown();
    await expect(breakers.run("a", async () => "direct")).resolves.toBe("direct");
  });
});
