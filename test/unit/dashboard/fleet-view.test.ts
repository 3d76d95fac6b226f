import { describe, expect, it } from "vitest";
import { FleetView } from "../../../src/dashboard/index.js";
import type { NodeEntry } from "../../../src/fleet/index.js";
import type { AttemptReport, CallOutcome } from "../../../src/gateway/index.js";
import { testNodeEntry } from "../../support/node-entry.js";
import { sampleOutcome } from "../../support/outcomes.js";

const START = Date.parse("2026-01-01T00:00:00Z");

function entry(id: string, region: string): NodeEntry {
  return testNodeEntry(() => 0, { id, region, models: ["tiny"] });
}

const served = (nodeId: string, ttftMs = 100): AttemptReport => ({
  nodeId,
  observation: { ok: true, nodeFault: false, ttftMs },
  errorCode: undefined,
  continuation: false,
  startedAt: 0,
  endedAt: ttftMs,
});
const failed = (nodeId: string, code = "upstream_error"): AttemptReport => ({
  nodeId,
  observation: { ok: false, nodeFault: true },
  errorCode: code,
  continuation: false,
  startedAt: 0,
  endedAt: 0,
});

let sequence = 0;
function outcome(fields: Partial<CallOutcome> = {}): CallOutcome {
  const attempts = fields.attempts ?? [served("a")];
  return sampleOutcome({
    requestId: `req-${++sequence}`,
    attempts,
    servedBy: attempts.at(-1)?.errorCode === undefined ? attempts.at(-1)?.nodeId : undefined,
    ttftMs: 120,
    bytes: 100,
    ...fields,
  });
}

function setup() {
  let now = START;
  const nodes = [entry("a", "fra"), entry("b", "iad")];
  const view = new FleetView({ nodes: () => nodes, draining: () => false, now: () => now });
  return { view, nodes, advance: (ms: number) => (now += ms) };
}

describe("FleetView", () => {
  it("has a row per registry node before any traffic", () => {
    const { view } = setup();
    const snapshot = view.snapshot();
    expect(
      snapshot.nodes.map((row) => [row.id, row.state, row.breaker, row.region, row.slots_total]),
    ).toEqual([
      ["a", "unknown", "closed", "fra", 4],
      ["b", "unknown", "closed", "iad", 4],
    ]);
    expect(snapshot.nodes[0]).toMatchObject({ ttft_p50_ms: null, share: 0, error_rate: 0, tokens_per_s: 0 });
    expect(snapshot.summary).toMatchObject({ nodes: 2, requests_total: 0, ttft_p50_ms: null, error_rate: 0 });
    expect(snapshot.series.requests_per_s).toHaveLength(180);
    expect(snapshot.errors).toEqual([]);
  });

  it("counts calls, tokens, TTFT percentiles and each node's share over the recent window", () => {
    const { view, advance } = setup();
    for (let i = 1; i <= 20; i++) view.observe(outcome({ attempts: [served(i <= 15 ? "a" : "b", i * 10)] }));
    advance(1000);
    const { summary, nodes, series } = view.snapshot();
    expect(summary.requests_total).toBe(20);
    expect(summary.requests_per_s).toBeCloseTo(20 / 60);
    expect(summary.tokens_per_s).toBeCloseTo((20 * 30) / 60);
    expect(summary.ttft_p50_ms).toBe(120);
    const [a, b] = nodes;
    expect(a).toMatchObject({ share: 0.75, ttft_p50_ms: 80, ttft_p95_ms: 150 });
    expect(b).toMatchObject({ share: 0.25, ttft_p50_ms: 180, ttft_p95_ms: 200 });
    expect(a?.tokens_per_s).toBeCloseTo((15 * 30) / 60);
    expect(series.requests_per_s.at(-1)).toBe(20 / 5);
    expect(series.ttft_ms.at(-1)).toBe(120);
    expect(series.ttft_ms[0]).toBeNull();
  });

  it("counts a prompt cache hit as a request that cost the fleet no tokens", () => {
    const { view, advance } = setup();
    view.observe(outcome());
    view.observe(outcome({ attempts: [], servedBy: undefined, cache: "hit" }));
    advance(1000);
    const { summary, usage } = view.snapshot();
    expect(summary.requests_total).toBe(2);
    expect(summary.tokens_per_s).toBeCloseTo(30 / 60);
    expect(usage.tenants[0]).toMatchObject({ requests: 2, completion_tokens: 30 });
  });

  it("shows a failover as a recovered error and counts it against the failed node only", () => {
    const { view, advance } = setup();
    view.observe(outcome({ attempts: [failed("a"), served("b")] }));
    advance(1000);
    const { nodes, errors, summary } = view.snapshot();
    expect(nodes.map((row) => row.error_rate)).toEqual([1, 0]);
    expect(nodes.map((row) => row.share)).toEqual([0, 1]);
    expect(summary.error_rate).toBe(0);
    expect(errors).toEqual([
      expect.objectContaining({
        code: "upstream_error",
        status: 200,
        recovered: true,
        attempts: [
          { node: "a", code: "upstream_error" },
          { node: "b", code: null },
        ],
      }),
    ]);
  });

  it("counts the gateway's failures in the error rate, lists the client's too, newest first", () => {
    const { view, advance } = setup();
    view.observe(
      outcome({ status: 502, errorCode: "upstream_error", attempts: [failed("a")], usage: undefined }),
    );
    view.observe(outcome({ status: 400, errorCode: "invalid_request", attempts: [], usage: undefined }));
    view.observe(outcome({ status: 200, errorCode: "stream_interrupted", attempts: [served("b")] }));
    view.observe(outcome());
    advance(1000);
    const { summary, errors, usage } = view.snapshot();
    expect(summary.error_rate).toBe(2 / 4);
    expect(errors.map((row) => [row.code, row.recovered])).toEqual([
      ["stream_interrupted", false],
      ["invalid_request", false],
      ["upstream_error", false],
    ]);
    expect(usage.tenants).toEqual([
      { name: "acme", requests: 4, errors: 3, prompt_tokens: 40, completion_tokens: 60 },
    ]);
  });

  it("keeps 15 minutes of history and a minute of rates", () => {
    const { view, advance } = setup();
    view.observe(outcome());
    advance(61_000);
    let snapshot = view.snapshot();
    expect(snapshot.summary.requests_per_s).toBe(0);
    expect(snapshot.nodes[0]).toMatchObject({ share: 0, ttft_p50_ms: null });
    expect(snapshot.series.requests_per_s.reduce((sum, n) => sum + n, 0)).toBeCloseTo(1 / 5);
    advance(15 * 60_000);
    snapshot = view.snapshot();
    expect(snapshot.series.requests_per_s.every((n) => n === 0)).toBe(true);
    expect(snapshot.summary.requests_total).toBe(1);
  });

  it("stays bounded however many calls and keys come", () => {
    const { view, advance } = setup();
    for (let i = 0; i < 5000; i++) {
      view.observe(
        outcome({ keyId: `key-${i}`, status: 502, errorCode: "upstream_error", attempts: [failed("a")] }),
      );
    }
    advance(1000);
    const { errors, usage } = view.snapshot();
    expect(errors).toHaveLength(50);
    expect(usage.keys).toHaveLength(10);
    expect(errors[0]?.request_id).toBe(`req-${sequence}`);
  });

  it("names calls without a key, and says when the gateway is draining", () => {
    let draining = false;
    const view = new FleetView({ nodes: () => [], draining: () => draining });
    view.observe(outcome({ keyId: undefined }));
    expect(view.snapshot().usage.keys[0]?.name).toBe("(no key)");
    expect(view.snapshot().summary.gateway).toBe("serving");
    draining = true;
    expect(view.snapshot().summary.gateway).toBe("draining");
  });
});
