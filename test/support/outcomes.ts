import { expect } from "vitest";
import type { CallOutcome } from "../../src/gateway/index.js";
import { passThroughTracer } from "../../src/telemetry/index.js";
import { eventually, type TestFleet } from "./fleet.js";

/**
 * Every outcome a test gateway settles, by request id. Tests send their own `x-request-id`, so each
 * call's outcomes can be found and counted.
 */
export class OutcomeRecorder {
  private readonly seen = new Map<string, CallOutcome[]>();
  private sequence = 0;

  constructor(private readonly fleet: TestFleet) {
    fleet.gateway.gateway.onOutcome("test-recorder", (outcome) => {
      const list = this.seen.get(outcome.requestId) ?? [];
      list.push(outcome);
      this.seen.set(outcome.requestId, list);
    });
  }

  /** A fresh request id, readable in failures. */
  nextId(label: string): string {
    this.sequence += 1;
    return `settle-${label}-${this.sequence}`;
  }

  /** The outcomes published for the request so far. */
  of(requestId: string): readonly CallOutcome[] {
    return this.seen.get(requestId) ?? [];
  }

  /** Waits until the request has settled; fails when it does not within the time. */
  async arrived(requestId: string, timeoutMs = 5000): Promise<CallOutcome> {
    const came = await eventually(() => this.of(requestId).length > 0, timeoutMs);
    expect(came, `no outcome for ${requestId}`).toBe(true);
    return this.of(requestId)[0] as CallOutcome;
  }

  /** Waits for the request's outcome, checks that no second one follows, and returns the one. */
  async once(requestId: string): Promise<CallOutcome> {
    const outcome = await this.arrived(requestId);
    await this.expectNoMore(requestId);
    return outcome;
  }

  /**
   * Checks that the request, which has settled, never settles again: not by the time a call sent
   * afterwards has settled, nor in the quiet period after that (a late timer or cleanup).
   */
  async expectNoMore(requestId: string): Promise<void> {
    await this.fence(requestId);
    const single = () => this.of(requestId).length === 1;
    expect(await holds(single, QUIET_MS), `${requestId} settled ${this.of(requestId).length} times`).toBe(
      true,
    );
  }

  /** Sends a model listing and waits until it has settled: what was settled before it has been seen. */
  private async fence(after: string): Promise<void> {
    const fence = `${after}.fence`;
    const response = await fetch(`${this.fleet.baseURL}/models`, { headers: { "x-request-id": fence } });
    await response.arrayBuffer();
    await this.arrived(fence);
  }
}

/** How long a settled call is watched for a second outcome. */
const QUIET_MS = 200;

/** Whether the check passes throughout the next `ms` (it is polled). */
async function holds(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!check()) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

/** A POST of JSON to the fleet's API with our own request id. */
export function sendJson(
  fleet: TestFleet,
  path: string,
  body: unknown,
  requestId: string,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${fleet.baseURL}${path}`, {
    ...init,
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The body as the client got it: its size in bytes and its text. */
export async function bodyOf(response: Response): Promise<{ bytes: number; text: string }> {
  const raw = new Uint8Array(await response.arrayBuffer());
  return { bytes: raw.byteLength, text: new TextDecoder().decode(raw) };
}

/** A plain successful chat outcome for unit tests of subscribers; `fields` override any part. */
export function sampleOutcome(fields: Partial<CallOutcome> = {}): CallOutcome {
  return {
    requestId: "req-1",
    kind: "chat",
    stream: false,
    model: "tiny",
    keyId: "key-1",
    tenant: "acme",
    status: 200,
    errorCode: undefined,
    attempts: [],
    servedBy: undefined,
    usage: { promptTokens: 20, completionTokens: 30, cachedTokens: undefined, source: "exact" },
    ttftMs: 100,
    durationMs: 400,
    bytes: 10,
    cache: "off",
    reservation: undefined,
    routeReason: "latency",
    affinityKeys: [],
    startedAt: 0,
    admission: undefined,
    trace: passThroughTracer.begin(undefined),
    ...fields,
  };
}
