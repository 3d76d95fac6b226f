import { CLIENT_CLOSED_CODE, errors, type GatewayError } from "../errors.js";

/**
 * The life of one client call: one abort signal that fires when the client leaves, the deadline
 * passes or the gateway shuts down, with the reason as a GatewayError. One controller and one timer,
 * released as soon as the call ends; composing signals per request (`AbortSignal.any`,
 * `AbortSignal.timeout`) cost ~20 µs and kept every request's memory alive until its timeout.
 */
export class CallLifetime {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onClientAbort = () => this.abort(errors.clientClosed());
  private ended = false;

  constructor(
    private readonly clientSignal: AbortSignal,
    timeoutMs: number,
    private readonly open: Set<CallLifetime>,
  ) {
    this.timer = setTimeout(() => this.abort(errors.deadlineExceeded(timeoutMs)), timeoutMs);
    if (clientSignal.aborted) this.onClientAbort();
    else clientSignal.addEventListener("abort", this.onClientAbort, { once: true });
    open.add(this);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once the client is gone, by disconnecting or by cancelling the reply. */
  get clientGone(): boolean {
    const reason: unknown = this.controller.signal.reason;
    return this.controller.signal.aborted && (reason as GatewayError).code === CLIENT_CLOSED_CODE;
  }

  abort(reason: GatewayError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** The call is over: release the timer and listeners. Safe to call more than once. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.clientSignal.removeEventListener("abort", this.onClientAbort);
    this.open.delete(this);
  }
}

/**
 * Makes `child` abort when `parent` does, with the same reason; returns the unlink to call when the
 * child is done, so long-lived parents do not collect listeners.
 */
export function linkAbort(parent: AbortSignal, child: AbortController): () => void {
  if (parent.aborted) {
    child.abort(parent.reason);
    return () => undefined;
  }
  const forward = () => child.abort(parent.reason);
  parent.addEventListener("abort", forward, { once: true });
  return () => parent.removeEventListener("abort", forward);
}
