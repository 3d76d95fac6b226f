import { describe, expect, it } from "vitest";
import { chatBody, type ErrorBody, json, post, readSomeEvents, sim, until } from "./helpers.js";

describe("sim node: faults", () => {
  it("errorRate answers completions with 500 in llama's envelope", async () => {
    const node = await sim({ faults: { errorRate: 1 } });
    const res = await post(node, "/v1/chat/completions", chatBody("x", { stream: true }));
    expect(res.status).toBe(500);
    expect((await json<ErrorBody>(res)).error).toMatchObject({ code: 500, type: "server_error" });
    node.setFaults({ errorRate: 0 });
    expect((await post(node, "/v1/chat/completions", chatBody("x", { max_tokens: 1 }))).status).toBe(200);
  });

  it("hangBeforeHeaders never answers until the client gives up, while probes still work", async () => {
    const node = await sim({ faults: { hangBeforeHeaders: true } });
    const request = post(node, "/v1/chat/completions", chatBody(), { signal: AbortSignal.timeout(100) });
    await expect(request).rejects.toThrow();
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
    await until(() => node.stats().inFlight === 0);
    expect(node.stats().requestsAborted).toBe(1);
  });

  it("hangMidStreamAfterTokens streams N tokens then goes silent with the slot held", async () => {
    const node = await sim({ faults: { hangMidStreamAfterTokens: 2 } });
    const controller = new AbortController();
    const res = await post(node, "/v1/chat/completions", chatBody("x", { stream: true }), {
      signal: controller.signal,
    });
    const { events, reader } = await readSomeEvents(res, 3);
    expect(events).toHaveLength(3);
    const next = await Promise.race([
      reader.read(),
      new Promise((resolve) => setTimeout(() => resolve("silent"), 100)),
    ]);
    expect(next).toBe("silent");
    expect(node.stats().busySlots).toBe(1);
    controller.abort();
    await until(() => node.stats().busySlots === 0);
  });

  // Exact whatever the Node version or socket timing: the fault waits for its bytes to reach the kernel.
  it.each([
    { tokens: 1, slowBytesPerSecond: null },
    { tokens: 2, slowBytesPerSecond: null },
    { tokens: 7, slowBytesPerSecond: null },
    { tokens: 3, slowBytesPerSecond: 20_000 },
  ])(
    "dieAfterTokens=$tokens (slow: $slowBytesPerSecond) delivers exactly N tokens, then drops the connection",
    async ({ tokens, slowBytesPerSecond }) => {
      const node = await sim({ faults: { dieAfterTokens: tokens, slowBytesPerSecond } });
      const res = await post(node, "/v1/chat/completions", chatBody("x", { stream: true, max_tokens: 20 }));
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let received = "";
      await expect(
        (async () => {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            received += new TextDecoder().decode(value);
          }
        })(),
      ).rejects.toThrow();
      // Whole events only: the role chunk and N tokens, no partial event and no [DONE].
      expect(received.match(/"content":"[^"]/g)).toHaveLength(tokens);
      expect(received.endsWith("\n\n")).toBe(true);
      expect(received).not.toContain("[DONE]");
      await until(() => node.stats().busySlots === 0);
      expect(node.stats()).toMatchObject({ tokensGenerated: tokens, requestsAborted: 0 });
    },
  );

  it("dieAfterTokens without a stream drops the connection before any header", async () => {
    const node = await sim({ faults: { dieAfterTokens: 2 } });
    await expect(post(node, "/v1/chat/completions", chatBody("y"))).rejects.toThrow();
  });

  it("malformedOutput turns stream chunks and JSON bodies into invalid JSON", async () => {
    const node = await sim({ faults: { malformedOutput: true } });
    const stream = await post(node, "/v1/chat/completions", chatBody("x", { stream: true, max_tokens: 2 }));
    const text = await stream.text();
    const data = text.split("\n\n").filter((block) => block.startsWith("data: ") && block !== "data: [DONE]");
    expect(data.length).toBeGreaterThan(0);
    for (const block of data) expect(() => JSON.parse(block.slice(6))).toThrow();
    const body = await post(node, "/v1/chat/completions", chatBody("x", { max_tokens: 2 }));
    expect(body.status).toBe(200);
    await expect(body.json()).rejects.toThrow();
  });

  it("slowBytesPerSecond trickles the body", async () => {
    const node = await sim({ faults: { slowBytesPerSecond: 4000 } });
    const started = performance.now();
    const res = await post(node, "/v1/chat/completions", chatBody("x", { max_tokens: 4 }));
    const text = await res.text();
    const elapsed = performance.now() - started;
    expect(JSON.parse(text)).toHaveProperty("usage");
    expect(elapsed).toBeGreaterThanOrEqual((text.length / 4000) * 1000 * 0.8);
  });

  it("flapPeriodMs alternates /health between ok and 503", async () => {
    const node = await sim({ faults: { flapPeriodMs: 60 } });
    const seen = new Set<number>();
    await until(async () => {
      seen.add((await fetch(`${node.url}/health`)).status);
      return seen.has(200) && seen.has(503);
    });
  });
});

describe("sim node: runtime admin", () => {
  it("changes faults over POST /sim/faults and names a bad field with 400", async () => {
    const node = await sim();
    const ok = await post(node, "/sim/faults", { errorRate: 1 });
    expect(ok.status).toBe(200);
    expect(await json(ok)).toMatchObject({ errorRate: 1, dieAfterTokens: null });
    expect((await post(node, "/v1/chat/completions", chatBody())).status).toBe(500);
    const bad = await post(node, "/sim/faults", { errorRate: 2 });
    expect(bad.status).toBe(400);
    expect((await json<ErrorBody>(bad)).error.message).toContain("errorRate");
    const unknown = await post(node, "/sim/faults", { explode: true });
    expect((await json<ErrorBody>(unknown)).error.message).toContain("explode");
    expect(() => node.setFaults({ dieAfterTokens: -1 })).toThrow(/dieAfterTokens/);
  });

  it("reports stats over GET /sim/stats, with the headers of the last completion request", async () => {
    const node = await sim();
    await post(node, "/v1/chat/completions", chatBody("x", { max_tokens: 3 }), {
      headers: { "x-request-id": "abc" },
    });
    const stats = await json<{ requestsTotal: number }>(fetch(`${node.url}/sim/stats`));
    expect(stats).toMatchObject({
      completionRequests: 1,
      tokensGenerated: 3,
      inFlight: 0,
      busySlots: 0,
      deferred: 0,
      requestsAborted: 0,
      lastRequestHeaders: { "x-request-id": "abc" },
    });
    expect(stats.requestsTotal).toBeGreaterThanOrEqual(2);
  });
});
