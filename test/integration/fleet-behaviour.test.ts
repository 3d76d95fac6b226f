import { describe, expect, it } from "vitest";
import { adminFetch, eventually, postJson, startFleet } from "../support/fleet.js";

const ask = { model: "tiny", messages: [{ role: "user", content: "hello there" }] };

describe("streams and the nodes behind them", () => {
  it("aborts the node's work at once when the client disconnects", async () => {
    const fleet = await startFleet([{ model: "tiny", tokensPerSecond: 20 }]);
    try {
      const client = new AbortController();
      const response = await postJson(
        `${fleet.baseURL}/chat/completions`,
        { ...ask, max_tokens: 200, stream: true },
        { signal: client.signal },
      );
      const reader = response.body!.getReader();
      await reader.read();
      const sim = fleet.sims[0]!;
      expect(sim.stats().busySlots).toBe(1);
      client.abort();
      expect(
        await eventually(() => sim.stats().requestsAborted === 1 && sim.stats().busySlots === 0, 1000),
      ).toBe(true);
      expect(sim.stats().tokensGenerated).toBeLessThan(50);
    } finally {
      await fleet.close();
    }
  });

  it("runs as many concurrent streams on a node as it has slots", async () => {
    const fleet = await startFleet([{ model: "tiny", slots: 12, tokensPerSecond: 20 }]);
    try {
      const streams = await Promise.all(
        Array.from({ length: 12 }, () =>
          postJson(`${fleet.baseURL}/chat/completions`, { ...ask, max_tokens: 40, stream: true }),
        ),
      );
      const sim = fleet.sims[0]!;
      expect(await eventually(() => sim.stats().busySlots === 12, 2000)).toBe(true);
      expect(sim.stats().deferred).toBe(0);
      await Promise.all(streams.map((response) => response.body?.cancel()));
    } finally {
      await fleet.close();
    }
  });

  it("sends SSE keep-alive comments while the first token is slow, once keepalive_after_ms has passed", async () => {
    const fleet = await startFleet([{ model: "tiny", ttftMs: 700 }], {
      config: { server: { keepalive_interval_ms: 150, keepalive_after_ms: 150 } },
    });
    try {
      const response = await postJson(`${fleet.baseURL}/chat/completions`, {
        ...ask,
        max_tokens: 2,
        stream: true,
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      const firstData = text.indexOf("data: ");
      const comments = text.slice(0, firstData).match(/^: keep-alive$/gm) ?? [];
      expect(comments.length).toBeGreaterThanOrEqual(2);
      expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    } finally {
      await fleet.close();
    }
  });

  it("waits for a loading node and serves once it is ready", async () => {
    const fleet = await startFleet([{ model: "tiny", loadingMs: 600 }]);
    try {
      expect((await fetch(`${fleet.gateway.url}/readyz`)).status).toBe(503);
      const nodes = (await (await adminFetch(fleet.gateway.url, "/admin/nodes")).json()) as {
        nodes: { state: string }[];
      };
      expect(nodes.nodes[0]?.state).toBe("loading");
      const early = await postJson(`${fleet.baseURL}/chat/completions`, ask);
      expect(early.status).toBe(503);
      expect(
        await eventually(async () => (await fetch(`${fleet.gateway.url}/readyz`)).status === 200, 3000),
      ).toBe(true);
      const late = await postJson(`${fleet.baseURL}/chat/completions`, { ...ask, max_tokens: 2 });
      expect(late.status).toBe(200);
    } finally {
      await fleet.close();
    }
  });

  it("moves traffic off a node that is killed", async () => {
    const fleet = await startFleet([{ model: "tiny" }, { model: "tiny" }]);
    try {
      fleet.sims[0]!.kill();
      const served: string[] = [];
      for (let i = 0; i < 6; i++) {
        const response = await postJson(`${fleet.baseURL}/chat/completions`, { ...ask, max_tokens: 1 });
        expect(response.status).toBe(200);
        served.push(response.headers.get("x-fleetgate-node") ?? "");
      }
      expect(served.every((node) => node === "node-1")).toBe(true);
      const down = await eventually(async () => {
        const report = (await (await adminFetch(fleet.gateway.url, "/admin/nodes")).json()) as {
          nodes: { id: string; state: string }[];
        };
        return report.nodes.find((node) => node.id === "node-0")?.state === "unhealthy";
      });
      expect(down).toBe(true);
    } finally {
      await fleet.close();
    }
  });

  it("retries a node's 5xx on another node before anything reached the client", async () => {
    const fleet = await startFleet([{ model: "tiny", faults: { errorRate: 1 } }, { model: "tiny" }]);
    try {
      for (let i = 0; i < 4; i++) {
        const response = await postJson(`${fleet.baseURL}/chat/completions`, {
          ...ask,
          max_tokens: 1,
          stream: i % 2 === 0,
        });
        expect(response.status).toBe(200);
        expect(response.headers.get("x-fleetgate-node")).toBe("node-1");
        await response.text();
      }
    } finally {
      await fleet.close();
    }
  });

  it("sends a node's api key upstream as Bearer", async () => {
    const fleet = await startFleet([{ model: "tiny", apiKey: "s3cret" }], {
      nodeConfig: [{ api_key: "s3cret" }],
    });
    try {
      const response = await postJson(`${fleet.baseURL}/chat/completions`, { ...ask, max_tokens: 1 });
      expect(response.status).toBe(200);
      expect(fleet.sims[0]!.stats().lastRequestHeaders?.authorization).toBe("Bearer s3cret");
    } finally {
      await fleet.close();
    }
  });

  it("ends a stream cut off mid-answer with an explicit error event, not [DONE]", async () => {
    const fleet = await startFleet([{ model: "tiny", faults: { dieAfterTokens: 3 } }]);
    try {
      const response = await postJson(`${fleet.baseURL}/chat/completions`, {
        ...ask,
        max_tokens: 20,
        stream: true,
      });
      const text = await response.text();
      expect(text).not.toContain("[DONE]");
      expect(text).toContain('"code":"stream_interrupted"');
    } finally {
      await fleet.close();
    }
  });
});
