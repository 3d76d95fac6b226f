import type { GatewayError } from "../errors.js";
import type { FleetRegistry, NodeEntry, RequestObservation } from "../fleet/index.js";
import type { Timings } from "../openai/index.js";

/**
 * One try of a request on one node. It counts the node's in-flight load from start to settle and
 * reports exactly one observation back to the registry, whatever path the request took.
 */
export class Attempt {
  readonly startedAt: number;
  private settled = false;

  constructor(
    readonly entry: NodeEntry,
    private readonly registry: FleetRegistry,
    private readonly clock: () => number,
    /** Told once when the attempt succeeds (e.g. to remember the conversation's node). */
    private readonly onSuccess?: (entry: NodeEntry) => void,
  ) {
    this.startedAt = clock();
    entry.begin();
  }

  get elapsedMs(): number {
    return this.clock() - this.startedAt;
  }

  succeed(details: {
    ttftMs?: number | undefined;
    interTokenMs?: number | undefined;
    timings?: Timings | undefined;
  }) {
    const settledNow = this.settle({
      ok: true,
      nodeFault: false,
      ttftMs: details.ttftMs ?? ttftFromTimings(this.elapsedMs, details.timings),
      interTokenMs: details.interTokenMs ?? interTokenFromTimings(details.timings),
      prefillTokensPerSec: prefillSpeed(details.timings),
    });
    if (settledNow) this.onSuccess?.(this.entry);
  }

  /** The node failed; `unreachable` also counts against its health, like a failed probe. */
  failByNode(error: GatewayError): void {
    this.settle({ ok: false, nodeFault: true });
    if (error.code === "upstream_unreachable") this.registry.recordConnectFailure(this.entry.id);
  }

  /** The request ended without the node being at fault (client error, client went away). */
  endWithoutFault(): void {
    this.settle({ ok: false, nodeFault: false });
  }

  /** Reports the observation unless one was reported already; true when this call reported it. */
  private settle(observation: RequestObservation): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.entry.finish(observation);
    return true;
  }
}

/** Without a stream, the first token came when the whole answer took minus the node's decode time. */
function ttftFromTimings(elapsedMs: number, timings: Timings | undefined): number | undefined {
  return timings ? Math.max(0, elapsedMs - timings.predicted_ms) : undefined;
}

function prefillSpeed(timings: Timings | undefined): number | undefined {
  if (!timings || timings.prompt_n < 8 || timings.prompt_ms <= 0) return undefined;
  return (timings.prompt_n / timings.prompt_ms) * 1000;
}

function interTokenFromTimings(timings: Timings | undefined): number | undefined {
  if (!timings || timings.predicted_n < 2 || timings.predicted_ms <= 0) return undefined;
  return timings.predicted_ms / timings.predicted_n;
}
