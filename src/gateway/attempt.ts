import type { GatewayError } from "../errors.js";
import type { NodeEntry, PrefillSample, RequestObservation } from "../fleet/index.js";
import type { Timings } from "../openai/index.js";
import type { NodeBreakers } from "../resilience/index.js";
import { NodeFault } from "../upstream/index.js";
import { linkAbort } from "./lifetime.js";
import type { AttemptReport } from "./outcome.js";

/** What every attempt reports to, shared by all requests. */
export interface AttemptEnv {
  readonly breakers: NodeBreakers;
  readonly clock: () => number;
  /** Told whenever an attempt ends, however: capacity may have freed up for queued requests. */
  readonly onSettled: () => void;
}

/**
 * One try of a request on one node. It counts the node's in-flight load from start to settle, tells
 * the node's circuit breaker how it went, and reports exactly one observation to its call (whose
 * settle passes it on to the node's statistics), whatever path the request took. Its own abort
 * controller lets the gateway give up on this node (first-token or idle timeout) without giving up
 * on the request.
 */
export class Attempt {
  readonly startedAt: number;
  private readonly controller = new AbortController();
  private readonly unlink: (() => void)[];
  private settled = false;
  /** Prompt work this attempt adds to its node until its first token, and what was pending before it. */
  private readonly prefillTokens: number;
  private prefilling = true;
  private readonly pendingAtStart: number;
  private resolveOutcome!: () => void;
  private rejectOutcome!: (fault: NodeFault) => void;

  constructor(
    readonly entry: NodeEntry,
    private readonly env: AttemptEnv,
    /** Signals that end the attempt too: the call's, and a hedge race's. */
    parents: readonly AbortSignal[],
    /** Told the attempt's one observation. */
    private readonly report: (report: Omit<AttemptReport, "continuation">) => void,
    /** Prompt tokens the node is expected to evaluate (what its cache does not hold). */
    prefillTokens = 0,
  ) {
    this.startedAt = env.clock();
    this.unlink = parents.map((parent) => linkAbort(parent, this.controller));
    this.prefillTokens = prefillTokens;
    this.pendingAtStart = entry.begin(prefillTokens);
    const outcome = new Promise<void>((resolve, reject) => {
      this.resolveOutcome = resolve;
      this.rejectOutcome = reject;
    });
    // The breaker sees the attempt's whole life; a call it refuses has already been counted as rejected.
    env.breakers.run(entry.id, () => outcome).catch(() => undefined);
  }

  /** Aborts when the call ends or this node is given up on; the reason says which. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get elapsedMs(): number {
    return this.env.clock() - this.startedAt;
  }

  /** The node has produced its first token: the prompt is evaluated, what remains is decoding. */
  firstToken(): void {
    if (!this.prefilling) return;
    this.prefilling = false;
    this.entry.prefilled(this.prefillTokens);
  }

  /** Gives up on this node; the pending I/O rejects with `fault` as the abort reason. */
  abandon(fault: NodeFault): void {
    this.controller.abort(fault);
  }

  /** The node-side reason this attempt was abandoned, if it was. */
  get abandonedFor(): NodeFault | undefined {
    const reason: unknown = this.controller.signal.reason;
    return reason instanceof NodeFault ? reason : undefined;
  }

  succeed(details: {
    ttftMs?: number | undefined;
    interTokenMs?: number | undefined;
    timings?: Timings | undefined;
  }) {
    const settledNow = this.settle(
      {
        ok: true,
        nodeFault: false,
        ttftMs: details.ttftMs ?? ttftFromTimings(this.elapsedMs, details.timings),
        interTokenMs: details.interTokenMs ?? interTokenFromTimings(details.timings),
        prefill: prefillSample(details.timings, this.pendingAtStart),
        serviceMs: this.elapsedMs,
      },
      undefined,
    );
    if (settledNow) this.resolveOutcome();
  }

  /** The node failed; `unreachable` also counts against its health, like a failed probe. */
  failByNode(error: GatewayError): void {
    if (!this.settle({ ok: false, nodeFault: true }, error.code)) return;
    this.rejectOutcome(error instanceof NodeFault ? error : new NodeFault(this.entry.id, error));
  }

  /** The request ended without the node being at fault (client error, client went away). */
  endWithoutFault(): void {
    if (this.settle({ ok: false, nodeFault: false }, undefined)) this.resolveOutcome();
  }

  /** Reports the observation unless one was reported already; true when this call reported it. */
  private settle(observation: RequestObservation, errorCode: string | undefined): boolean {
    if (this.settled) return false;
    this.settled = true;
    for (const unlink of this.unlink) unlink();
    this.firstToken();
    this.entry.end();
    this.report({
      nodeId: this.entry.id,
      observation,
      errorCode,
      startedAt: this.startedAt,
      endedAt: this.env.clock(),
    });
    this.env.onSettled();
    return true;
  }
}

/** Without a stream, the first token came when the whole answer took minus the node's decode time. */
function ttftFromTimings(elapsedMs: number, timings: Timings | undefined): number | undefined {
  return timings ? Math.max(0, elapsedMs - timings.predicted_ms) : undefined;
}

function prefillSample(timings: Timings | undefined, pendingAtStart: number): PrefillSample | undefined {
  return timings && { tokens: timings.prompt_n, ms: timings.prompt_ms, pendingAtStart };
}

function interTokenFromTimings(timings: Timings | undefined): number | undefined {
  if (!timings || timings.predicted_n < 2 || timings.predicted_ms <= 0) return undefined;
  return timings.predicted_ms / timings.predicted_n;
}
