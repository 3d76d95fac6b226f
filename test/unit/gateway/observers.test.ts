import { describe, expect, it } from "vitest";
import type { AttemptReport, CallOutcome } from "../../../src/gateway/index.js";
import { callSpans, outcomeMetrics } from "../../../src/gateway/observers.js";
import type {
  CallSpanRecord,
  GatewayMetrics,
  NodeAddress,
  OperationRecord,
} from "../../../src/telemetry/index.js";
import { sampleOutcome } from "../../support/outcomes.js";

const addressOf = (id: string): NodeAddress => ({ id, address: `${id}.local`, port: 8080 });

function attempt(
  nodeId: string,
  startedAt: number,
  endedAt: number,
  fields: Partial<AttemptReport> = {},
): AttemptReport {
  return {
    nodeId,
    observation: { ok: true, nodeFault: false, ttftMs: 30 },
    errorCode: undefined,
    continuation: false,
    startedAt,
    endedAt,
    ...fields,
  };
}

const failed = { observation: { ok: false, nodeFault: true }, errorCode: "upstream_unreachable" };
const lost = { observation: { ok: false, nodeFault: false } };

function outcome(fields: Partial<CallOutcome>): CallOutcome {
  return sampleOutcome({
    requestId: "req",
    stream: true,
    keyId: "key",
    usage: { promptTokens: 12, completionTokens: 11, cachedTokens: undefined, source: "exact" },
    durationMs: 600,
    startedAt: 1000,
    ...fields,
  });
}

/** A GatewayMetrics that writes down what it is told. */
function recorder() {
  const calls: unknown[][] = [];
  const operations: OperationRecord[] = [];
  const note =
    (name: string) =>
    (...args: unknown[]) => {
      calls.push([name, ...args]);
    };
  const metrics: GatewayMetrics = {
    operation: (record) => operations.push(record),
    attempt: note("attempt"),
    routed: note("routed"),
    failover: note("failover"),
    continuation: note("continuation"),
    hedge: note("hedge"),
    admissionWait: note("admissionWait"),
    storeError: note("storeError"),
    quotaRefused: note("quotaRefused"),
    quotaFallback: note("quotaFallback"),
    cacheLookup: note("cacheLookup"),
    cacheFill: note("cacheFill"),
    cacheStoreFallback: note("cacheStoreFallback"),
  };
  return { metrics, calls, operations, of: (name: string) => calls.filter((call) => call[0] === name) };
}

describe("outcome metrics", () => {
  it("tells a failover (one try after another ended) from a hedge (raced while the first ran)", () => {
    const failover = recorder();
    outcomeMetrics(
      failover.metrics,
      addressOf,
    )(outcome({ attempts: [attempt("a", 1000, 1010, failed), attempt("b", 1010, 1600)], servedBy: "b" }));
    expect(failover.of("failover")).toEqual([["failover", "a"]]);
    expect(failover.of("hedge")).toEqual([]);
    expect(failover.of("attempt")).toEqual([
      ["attempt", "a", "failed", "upstream_unreachable"],
      ["attempt", "b", "ok", undefined],
    ]);
    expect(failover.of("routed")).toEqual([["routed", "a", "latency"]]);

    const hedged = recorder();
    // Reported in the order they ended: the hedge won, the primary was cancelled after.
    outcomeMetrics(
      hedged.metrics,
      addressOf,
    )(outcome({ attempts: [attempt("b", 1200, 1600), attempt("a", 1000, 1300, lost)], servedBy: "b" }));
    expect(hedged.of("hedge")).toEqual([["hedge", true]]);
    expect(hedged.of("failover")).toEqual([]);
    expect(hedged.of("attempt")).toContainEqual(["attempt", "a", "ended", undefined]);
  });

  it("counts a continuation apart from failovers", () => {
    const { metrics, of } = recorder();
    outcomeMetrics(
      metrics,
      addressOf,
    )(
      outcome({
        attempts: [attempt("a", 1000, 1300, failed), attempt("b", 1300, 1600, { continuation: true })],
        servedBy: "b",
      }),
    );
    expect(of("continuation")).toEqual([["continuation", "b"]]);
    expect(of("failover")).toEqual([]);
  });

  it("records the GenAI operation as the conventions define it", () => {
    const { metrics, operations } = recorder();
    outcomeMetrics(metrics, addressOf)(outcome({ attempts: [attempt("a", 1000, 1600)], servedBy: "a" }));
    expect(operations).toEqual([
      {
        operation: "chat",
        model: "tiny",
        node: addressOf("a"),
        errorType: undefined,
        durationS: 0.6,
        ttftS: 0.1,
        // (600 ms - 100 ms to the first token) over the 10 tokens after it.
        timePerOutputTokenS: 0.05,
        inputTokens: 12,
        outputTokens: 11,
      },
    ]);
  });

  it("takes a one-piece answer's first token from its node, and gives embeddings no output", () => {
    const unary = recorder();
    outcomeMetrics(
      unary.metrics,
      addressOf,
    )(outcome({ stream: false, ttftMs: undefined, attempts: [attempt("a", 1050, 1600)], servedBy: "a" }));
    // 50 ms until the attempt began, then the node's 30 ms.
    expect(unary.operations[0]?.ttftS).toBeCloseTo(0.08);
    const embeddings = recorder();
    outcomeMetrics(
      embeddings.metrics,
      addressOf,
    )(
      outcome({ kind: "embeddings", ttftMs: undefined, attempts: [attempt("a", 1000, 1100)], servedBy: "a" }),
    );
    expect(embeddings.operations[0]).toMatchObject({
      operation: "embeddings",
      ttftS: undefined,
      timePerOutputTokenS: undefined,
      inputTokens: 12,
      outputTokens: undefined,
    });
  });

  it("labels failures by code, keeps unserved models and unused tokens out, and skips listings", () => {
    const { metrics, operations, of } = recorder();
    const observe = outcomeMetrics(metrics, addressOf);
    observe(outcome({ status: 404, errorCode: "model_not_found", model: "made-up", routeReason: undefined }));
    expect(operations[0]).toMatchObject({
      errorType: "model_not_found",
      model: undefined,
      node: undefined,
      ttftS: undefined,
      inputTokens: undefined,
    });
    expect(of("routed")).toEqual([]);
    observe(outcome({ kind: "models" }));
    expect(operations).toHaveLength(1);
  });

  it("records the admission wait, with the refusal's code", () => {
    const { metrics, of } = recorder();
    const observe = outcomeMetrics(metrics, addressOf);
    observe(outcome({ admission: { waitedMs: 250, admitted: true } }));
    observe(
      outcome({
        status: 503,
        errorCode: "overloaded_timeout",
        admission: { waitedMs: 2000, admitted: false },
      }),
    );
    expect(of("admissionWait")).toEqual([
      ["admissionWait", 0.25, undefined],
      ["admissionWait", 2, "overloaded_timeout"],
    ]);
  });

  it("counts what the prompt cache did, and gives a hit's tokens to no node", () => {
    const { metrics, of, operations } = recorder();
    const observe = outcomeMetrics(metrics, addressOf);
    for (const cache of ["off", "hit", "miss", "bypass"] as const) {
      observe(outcome({ cache, routeReason: cache === "hit" ? undefined : "latency" }));
    }
    expect(of("cacheLookup")).toEqual([
      ["cacheLookup", "hit"],
      ["cacheLookup", "miss"],
      ["cacheLookup", "bypass"],
    ]);
    const hit = operations[1];
    expect(hit?.node).toBeUndefined();
    expect(hit?.inputTokens).toBeUndefined();
    expect(hit?.outputTokens).toBeUndefined();
  });
});

describe("call spans", () => {
  it("give each attempt its offset from the call's start, in the order they started", () => {
    const records: CallSpanRecord[] = [];
    const trace = {
      traceparent: undefined,
      recording: true,
      end: (record: CallSpanRecord) => records.push(record),
    };
    callSpans(addressOf)(
      outcome({ attempts: [attempt("b", 1200, 1600), attempt("a", 1000, 1300, lost)], servedBy: "b", trace }),
    );
    expect(records[0]?.attempts).toEqual([
      expect.objectContaining({
        node: addressOf("a"),
        startOffsetMs: 0,
        durationMs: 300,
        result: "ended",
        hedge: false,
      }),
      expect.objectContaining({
        node: addressOf("b"),
        startOffsetMs: 200,
        durationMs: 400,
        result: "ok",
        hedge: true,
      }),
    ]);
    expect(records[0]).toMatchObject({ operation: "chat", servedBy: "b", inputTokens: 12, outputTokens: 11 });
  });
});
