import type { ServerResponse } from "node:http";
import type { SimContext } from "./context.js";

/**
 * One inference request's life on the node: it aborts when the client goes away, counts that as an
 * aborted request (unless the node itself cut the connection) and can be parked by a hang fault.
 */
export class Exchange {
  private readonly controller = new AbortController();
  private closedByNode = false;

  constructor(
    private readonly ctx: SimContext,
    readonly res: ServerResponse,
  ) {
    ctx.inFlight += 1;
    res.once("close", () => {
      ctx.inFlight -= 1;
      if (!res.writableFinished && !this.closedByNode) ctx.requestsAborted += 1;
      this.controller.abort(new Error("client closed the connection"));
    });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Drop the connection at once, like a crashed process (or a node being shut down) would. */
  destroy(): void {
    this.closedByNode = true;
    this.res.destroy();
  }

  /** The hang faults: hold the request open, silently, until the client leaves or the node closes. */
  async stall(): Promise<void> {
    const stalled = { destroy: () => this.destroy() };
    this.ctx.stalled.add(stalled);
    try {
      await new Promise<void>((resolve) => {
        if (this.signal.aborted) resolve();
        else this.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    } finally {
      this.ctx.stalled.delete(stalled);
    }
  }
}
