import { request as httpRequest, type IncomingMessage } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CallOutcome } from "../../src/gateway/index.js";
import type { FaultConfig, SimNodeOptions } from "../../src/sim/index.js";
import { eventually, type FleetOptions, startFleet, type TestFleet } from "../support/fleet.js";
import { bodyOf, OutcomeRecorder, sendJson } from "../support/outcomes.js";

/**
 * Settle runs exactly once per call, however the call ends, and its one outcome says what happened:
 * which nodes were tried, who served, what the client got (status, error, bytes) and what it cost.
 */
const messages = [{ role: "user", content: "tell me a story" }];
const chat = (extra: Record<string, unknown> = {}) => ({ model: "tiny", messages, max_tokens: 8, ...extra });

interface Harness {
  readonly fleet: TestFleet;
  readonly outcomes: OutcomeRecorder;
}

/**
 * A fleet with the recorder subscribed, behind a subscriber that always throws: every test below
 * also shows that a failing subscriber neither breaks the call nor keeps the outcome from the others.
 */
async function harness(nodes: SimNodeOptions[], options: FleetOptions = {}): Promise<Harness> {
  const fleet = await startFleet(nodes, options);
  fleet.gateway.gateway.onOutcome("always-throws", () => {
    throw new Error("subscriber failure");
  });
  return { fleet, outcomes: new OutcomeRecorder(fleet) };
}

/**
 * Two nodes in round-robin order with the faults on node-0, which a fresh fleet ranks first for its
 * first request (model listings are not routed, so the fences do not move the rotation).
 */
function faultyFirst(faults: Partial<FaultConfig>): Promise<Harness> {
  return harness([{ model: "tiny", faults }, { model: "tiny" }], {
    config: { routing: { strategy: "round-robin", affinity: false } },
  });
}

function expectAttempts(
  outcome: CallOutcome,
  expected: { nodeId: string; ok: boolean; continuation?: boolean }[],
) {
  expect(
    outcome.attempts.map((attempt) => ({
      nodeId: attempt.nodeId,
      ok: attempt.observation.ok,
      continuation: attempt.continuation,
    })),
  ).toEqual(expected.map((attempt) => ({ continuation: false, ...attempt })));
}

describe("settle: answered calls", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness([{ model: "tiny" }, { model: "tiny" }]);
  });
  afterAll(() => h.fleet.close());

  it("a non-streamed answer: the node, exact usage, the bytes and the route the client saw", async () => {
    const id = h.outcomes.nextId("unary");
    const response = await sendJson(h.fleet, "/chat/completions", chat(), id);
    const { bytes, text } = await bodyOf(response);
    const usage = (JSON.parse(text) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    const outcome = await h.outcomes.once(id);
    expect(outcome).toMatchObject({
      kind: "chat",
      stream: false,
      model: "tiny",
      status: 200,
      errorCode: undefined,
      servedBy: response.headers.get("x-fleetgate-node"),
      routeReason: response.headers.get("x-fleetgate-route"),
      bytes,
      usage: {
        source: "exact",
        promptTokens: usage.prompt_tokens,
        completionTokens: usage.completion_tokens,
      },
    });
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.attempts[0]?.observation.ok).toBe(true);
    expect(outcome.attempts[0]?.nodeId).toBe(outcome.servedBy);
  });

  it("a streamed answer: time to first token within the call, every byte counted", async () => {
    const id = h.outcomes.nextId("stream");
    const response = await sendJson(h.fleet, "/chat/completions", chat({ stream: true }), id);
    const { bytes, text } = await bodyOf(response);
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const outcome = await h.outcomes.once(id);
    expect(outcome).toMatchObject({
      kind: "chat",
      stream: true,
      status: 200,
      errorCode: undefined,
      servedBy: response.headers.get("x-fleetgate-node"),
      bytes,
    });
    expect(outcome.bytes).toBeGreaterThan(0);
    expect(outcome.ttftMs).toBeDefined();
    expect(outcome.ttftMs).toBeLessThanOrEqual(outcome.durationMs);
    expect(outcome.attempts).toHaveLength(1);
  });

  it("a model listing settles too", async () => {
    const id = h.outcomes.nextId("models");
    const response = await fetch(`${h.fleet.baseURL}/models`, { headers: { "x-request-id": id } });
    const { bytes } = await bodyOf(response);
    expect(response.status).toBe(200);
    const outcome = await h.outcomes.once(id);
    expect(outcome).toMatchObject({ kind: "models", status: 200, errorCode: undefined, bytes, attempts: [] });
  });
});

describe("settle: calls refused before any node", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness([{ model: "tiny" }]);
  });
  afterAll(() => h.fleet.close());

  async function refused(send: (id: string) => Promise<Response>, status: number, code: string) {
    const id = h.outcomes.nextId(code);
    const response = await send(id);
    const { bytes } = await bodyOf(response);
    expect(response.status).toBe(status);
    const outcome = await h.outcomes.once(id);
    expect(outcome).toMatchObject({ status, errorCode: code, attempts: [], servedBy: undefined, bytes });
    return outcome;
  }

  it("an invalid body: 400 invalid_request", async () => {
    const invalid = { model: "tiny", messages: [{ role: "wizard", content: "hi" }] };
    await refused((id) => sendJson(h.fleet, "/chat/completions", invalid, id), 400, "invalid_request");
  });

  it("a body that is not JSON: 400 invalid_json", async () => {
    await refused(
      (id) => sendJson(h.fleet, "/chat/completions", '{"model": "tiny", ', id),
      400,
      "invalid_json",
    );
  });

  it("a body that is not JSON's media type: 415 unsupported_media_type", async () => {
    const send = (id: string) =>
      fetch(`${h.fleet.baseURL}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "text/plain", "x-request-id": id },
        body: JSON.stringify(chat()),
      });
    await refused(send, 415, "unsupported_media_type");
  });

  it("a model nobody serves: 404 model_not_found, for inference and for the model's listing", async () => {
    const inference = await refused(
      (id) => sendJson(h.fleet, "/chat/completions", chat({ model: "nope" }), id),
      404,
      "model_not_found",
    );
    expect(inference.model).toBe("nope");
    const listing = await refused(
      (id) => fetch(`${h.fleet.baseURL}/models/nope`, { headers: { "x-request-id": id } }),
      404,
      "model_not_found",
    );
    expect(listing).toMatchObject({ kind: "model", model: "nope" });
  });
});

describe("settle: node failures", () => {
  let h: Harness | undefined;
  const start = async (faults: Partial<FaultConfig>) => {
    h = await faultyFirst(faults);
    return h;
  };
  afterEach(async () => {
    await h?.fleet.close();
    h = undefined;
  });

  it.each([false, true])(
    "a node's 5xx, then failover (stream: %s): both attempts, served by the second",
    async (stream) => {
      const { fleet, outcomes } = await start({ errorRate: 1 });
      const id = outcomes.nextId("failover");
      const response = await sendJson(fleet, "/chat/completions", chat({ stream }), id);
      await bodyOf(response);
      expect(response.status).toBe(200);
      const outcome = await outcomes.once(id);
      expectAttempts(outcome, [
        { nodeId: "node-0", ok: false },
        { nodeId: "node-1", ok: true },
      ]);
      expect(outcome.attempts[0]?.errorCode).toBeDefined();
      expect(outcome.attempts[1]?.errorCode).toBeUndefined();
      expect(outcome).toMatchObject({ status: 200, errorCode: undefined, servedBy: "node-1" });
    },
  );

  it("a chat stream whose node dies mid-answer continues elsewhere: served by the continuing node, usage estimated", async () => {
    const { fleet, outcomes } = await start({ dieAfterTokens: 3 });
    const id = outcomes.nextId("continued");
    const response = await sendJson(fleet, "/chat/completions", chat({ stream: true, max_tokens: 20 }), id);
    const { text } = await bodyOf(response);
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const outcome = await outcomes.once(id);
    expectAttempts(outcome, [
      { nodeId: "node-0", ok: false },
      { nodeId: "node-1", ok: true, continuation: true },
    ]);
    expect(outcome.attempts[0]?.errorCode).toBe("stream_interrupted");
    expect(outcome).toMatchObject({
      status: 200,
      errorCode: undefined,
      servedBy: "node-1",
      usage: { source: "estimated" },
    });
  });

  it("a completions stream whose node dies cannot be continued: 200 with stream_interrupted", async () => {
    const { fleet, outcomes } = await start({ dieAfterTokens: 3 });
    const id = outcomes.nextId("interrupted");
    const body = { model: "tiny", prompt: "once upon a time", max_tokens: 20, stream: true };
    const response = await sendJson(fleet, "/completions", body, id);
    const { bytes, text } = await bodyOf(response);
    expect(text).toContain('"code":"stream_interrupted"');
    const outcome = await outcomes.once(id);
    expectAttempts(outcome, [{ nodeId: "node-0", ok: false }]);
    expect(outcome).toMatchObject({
      kind: "completions",
      status: 200,
      errorCode: "stream_interrupted",
      servedBy: undefined,
      bytes,
    });
  });
});

describe("settle: calls the client or the gateway ends", () => {
  it("a client that leaves mid-stream: client_closed_request, once, after the node stopped", async () => {
    const { fleet, outcomes } = await harness([{ model: "tiny", tokensPerSecond: 20 }]);
    try {
      const id = outcomes.nextId("abort");
      const client = new AbortController();
      const response = await sendJson(
        fleet,
        "/chat/completions",
        chat({ stream: true, max_tokens: 200 }),
        id,
        {
          signal: client.signal,
        },
      );
      await response.body?.getReader().read();
      client.abort();
      const outcome = await outcomes.arrived(id);
      const sim = fleet.sims[0]!;
      expect(await eventually(() => sim.stats().requestsAborted === 1 && sim.stats().busySlots === 0)).toBe(
        true,
      );
      await outcomes.expectNoMore(id);
      expect(outcome).toMatchObject({ status: 200, errorCode: "client_closed_request", stream: true });
      expect(outcome.bytes).toBeGreaterThan(0);
      expect(outcome.attempts).toHaveLength(1);
    } finally {
      await fleet.close();
    }
  });

  it("shutdown: an open stream ends with shutting_down, a call arriving while draining gets 503; each settles once", async () => {
    const { fleet, outcomes } = await harness([{ model: "tiny", tokensPerSecond: 40 }]);
    try {
      const openId = outcomes.nextId("open-at-shutdown");
      const open = await sendJson(
        fleet,
        "/chat/completions",
        chat({ stream: true, max_tokens: 400 }),
        openId,
      );
      const openBody = bodyOf(open);
      const lateId = outcomes.nextId("late");
      const late = await headersOnly(fleet.gateway.url, "/v1/chat/completions", lateId);
      const closing = fleet.gateway.close(300);
      const lateResponse = await late.finish(JSON.stringify(chat()));
      expect(lateResponse.status).toBe(503);
      expect(lateResponse.body).toContain('"code":"shutting_down"');
      await closing;
      expect((await openBody).text).toContain('"code":"shutting_down"');
      // Closed: nothing is left to settle anything again.
      expect(outcomes.of(openId)).toHaveLength(1);
      expect(outcomes.of(lateId)).toHaveLength(1);
      expect(outcomes.of(openId)[0]).toMatchObject({ status: 200, errorCode: "shutting_down" });
      expect(outcomes.of(lateId)[0]).toMatchObject({ status: 503, errorCode: "shutting_down", attempts: [] });
    } finally {
      await Promise.all(fleet.sims.map((sim) => sim.close()));
    }
  });
});

/**
 * A POST whose headers the gateway has taken (it answered `100 Continue`) but whose body is still
 * to come, so the call reaches the gateway only when `finish` sends the body.
 */
function headersOnly(
  origin: string,
  path: string,
  requestId: string,
): Promise<{ finish(body: string): Promise<{ status: number; body: string }> }> {
  const req = httpRequest(`${origin}${path}`, {
    method: "POST",
    agent: false,
    headers: { "content-type": "application/json", "x-request-id": requestId, expect: "100-continue" },
  });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on("response", (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
  });
  return new Promise((resolve, reject) => {
    req.on("error", reject);
    req.on("continue", () =>
      resolve({
        finish(body) {
          req.end(body);
          return answered;
        },
      }),
    );
    req.flushHeaders();
  });
}
