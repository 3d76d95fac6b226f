import { adminFetch } from "../../support/fleet.js";

/** What the fault tests read of GET /admin/nodes. */
export interface NodeView {
  readonly id: string;
  readonly state: string;
  readonly breaker: string;
  readonly error_rate: number | null;
}

function isNodeView(value: unknown): value is NodeView {
  if (typeof value !== "object" || value === null) return false;
  const view = value as Record<string, unknown>;
  return typeof view.id === "string" && typeof view.state === "string" && typeof view.breaker === "string";
}

export async function adminNodes(gatewayURL: string): Promise<NodeView[]> {
  const response = await adminFetch(gatewayURL, "/admin/nodes");
  const payload: unknown = await response.json();
  const nodes = (payload as { nodes?: unknown }).nodes;
  return Array.isArray(nodes) ? nodes.filter(isNodeView) : [];
}

export async function nodeView(gatewayURL: string, id: string): Promise<NodeView | undefined> {
  return (await adminNodes(gatewayURL)).find((node) => node.id === id);
}

/**
 * Records every breaker and health state a node goes through, polling /admin/nodes, so a test can
 * assert the path (closed → open → half-open → closed) rather than a single sample.
 */
export class NodeWatch {
  readonly breakers: string[] = [];
  readonly states: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly gatewayURL: string,
    private readonly id: string,
    private readonly everyMs = 20,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.poll(), this.everyMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get breaker(): string | undefined {
    return this.breakers.at(-1);
  }

  /** Whether the node was ever seen in this state (e.g. "down" on a flap). */
  sawState(state: string): boolean {
    return this.states.includes(state);
  }

  sawBreaker(state: string): boolean {
    return this.breakers.includes(state);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const view = await nodeView(this.gatewayURL, this.id);
      if (!view) return;
      if (this.breakers.at(-1) !== view.breaker) this.breakers.push(view.breaker);
      if (this.states.at(-1) !== view.state) this.states.push(view.state);
    } catch {
      // The gateway may be closing at the end of a test; the next poll or stop() settles it.
    } finally {
      this.polling = false;
    }
  }
}

/** Polls until the check passes or the time is up; returns whether it passed. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}
