import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { type CapacityReading, parseMetrics, parseNodeProps, parseSlots } from "../fleet/index.js";

/**
 * The node agent (`fleetgate agent`), a sidecar beside llama-server: it waits for the model to load,
 * registers the node with the gateway, and heartbeats with its own reading of /slots, /metrics and
 * /props, so gateways need not probe the node. It registers again when the gateway forgets the
 * node (a restart, a lost store); on stop it drains, waits for running requests, then deregisters.
 */
export interface AgentOptions {
  readonly gateway: string;
  readonly token: string;
  /** Where the agent reads llama-server (usually loopback). */
  readonly llama: string;
  readonly id: string;
  /** Where the gateway reaches the node; the llama URL when omitted. */
  readonly publicUrl?: string | undefined;
  readonly region?: string | undefined;
  readonly lat?: number | undefined;
  readonly lon?: number | undefined;
  readonly models?: readonly string[] | undefined;
  /** How long a drain may wait for running requests before deregistering anyway. */
  readonly drainTimeoutMs?: number | undefined;
  /** How long to wait between attempts while llama-server or the gateway is not there yet. */
  readonly retryMs?: number | undefined;
  readonly log: (line: string) => void;
}

/** A refusal no retry can fix: a wrong token, a refused URL, an id someone else holds. */
export class AgentRefusedError extends Error {
  override name = "AgentRefusedError";
}

const registeredSchema = z.looseObject({ heartbeat_interval_ms: z.number().int().min(1) });
const REQUEST_TIMEOUT_MS = 5000;

export class NodeAgent {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: AbortController = new AbortController();
  private intervalMs = 5000;
  private readonly retryMs: number;

  constructor(private readonly options: AgentOptions) {
    this.retryMs = options.retryMs ?? 1000;
  }

  /**
   * Resolves once the node is registered; heartbeats then run until stop(). `finished` settles when
   * they end: resolved after stop(), rejected when the gateway refuses the node for good.
   */
  async start(): Promise<void> {
    await this.waitForLlama();
    await this.register();
    this.loop = this.heartbeats();
  }

  get finished(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Drain, wait for the node's running requests to finish, then deregister. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake.abort();
    await this.loop?.catch(() => undefined);
    const drained = await this.gatewayCall("POST", `/fleet/nodes/${this.options.id}/drain`).catch(
      () => undefined,
    );
    this.options.log(`drain: gateway answered ${drained?.status ?? "nothing"}`);
    await this.waitIdle();
    const removed = await this.gatewayCall("DELETE", `/fleet/nodes/${this.options.id}`).catch(
      () => undefined,
    );
    this.options.log(`deregistered: gateway answered ${removed?.status ?? "nothing"}`);
  }

  private async waitForLlama(): Promise<void> {
    let said = false;
    while (!this.stopped) {
      const health = await this.llamaGet("/health");
      if (health?.status === 200) return;
      if (!said) this.options.log(`waiting for llama-server at ${this.options.llama} to load`);
      said = true;
      await this.pause(this.retryMs);
    }
  }

  /** Registers, retrying while the gateway is unreachable or failing; a refusal is final. */
  private async register(): Promise<void> {
    const { id, publicUrl, llama, region, lat, lon, models } = this.options;
    const body = { id, url: publicUrl ?? llama, region, lat, lon, models };
    while (!this.stopped) {
      const response = await this.gatewayCall("POST", "/fleet/nodes", body).catch((err: Error) => err);
      if (!(response instanceof Error) && (response.status === 200 || response.status === 201)) {
        const parsed = registeredSchema.safeParse(await response.json().catch(() => undefined));
        if (parsed.success) this.intervalMs = parsed.data.heartbeat_interval_ms;
        this.options.log(
          `registered '${id}' with ${this.options.gateway} (heartbeat every ${this.intervalMs} ms)`,
        );
        return;
      }
      if (!(response instanceof Error) && response.status >= 400 && response.status < 500) {
        throw new AgentRefusedError(`the gateway refused the registration: ${await response.text()}`);
      }
      this.options.log(
        `gateway not reachable (${response instanceof Error ? response.message : response.status}); retrying`,
      );
      await this.pause(this.retryMs);
    }
  }

  private async heartbeats(): Promise<void> {
    while (!this.stopped) {
      await this.pause(this.intervalMs);
      if (this.stopped) return;
      await this.beat().catch((err: Error) => {
        if (err instanceof AgentRefusedError) throw err;
        this.options.log(`heartbeat failed: ${err.message}`);
      });
    }
  }

  /** One heartbeat. A llama-server that stopped answering gets none, so the node expires from the fleet. */
  private async beat(): Promise<void> {
    const health = await this.llamaGet("/health");
    if (health?.status !== 200) {
      this.options.log(`llama-server unhealthy (${health?.status ?? "unreachable"}): no heartbeat`);
      return;
    }
    const body = await this.reading();
    const response = await this.gatewayCall("PUT", `/fleet/nodes/${this.options.id}/heartbeat`, body);
    if (response.status === 404) {
      // The gateway forgot the node (a restart with an in-memory store, a lost Redis): join again.
      this.options.log("the gateway does not know this node any more: registering again");
      await this.register();
    } else if (response.status === 401 || response.status === 409) {
      throw new AgentRefusedError(`the gateway refused the heartbeat: ${await response.text()}`);
    }
  }

  private async reading() {
    const [slots, metrics, props] = await Promise.all([
      this.llamaGet("/slots"),
      this.llamaGet("/metrics"),
      this.llamaGet("/props"),
    ]);
    const fromSlots: CapacityReading = slots?.status === 200 ? parseSlots(slots.body) : {};
    const fromMetrics: CapacityReading = metrics?.status === 200 ? parseMetrics(metrics.body) : {};
    const parsedProps = props?.status === 200 ? parseNodeProps(props.body) : undefined;
    const busy = fromSlots.slotsBusy ?? fromMetrics.slotsBusy;
    return {
      reading: {
        slots_total: fromSlots.slotsTotal ?? parsedProps?.total_slots,
        slots_busy: busy === undefined ? undefined : Math.round(busy),
        deferred: fromMetrics.deferred === undefined ? undefined : Math.round(fromMetrics.deferred),
      },
      props: parsedProps,
    };
  }

  /**
   * Waits until no slot is processing (the gateway sends nothing new to a draining node). Heartbeats
   * go on meanwhile: a drain longer than the TTL must not let the node expire under its streams.
   */
  private async waitIdle(): Promise<void> {
    const deadline = Date.now() + (this.options.drainTimeoutMs ?? 30_000);
    let beatAt = Date.now();
    while (Date.now() < deadline) {
      const slots = await this.llamaGet("/slots");
      const busy = slots?.status === 200 ? parseSlots(slots.body).slotsBusy : undefined;
      if (!busy) return;
      if (Date.now() - beatAt >= this.intervalMs) {
        beatAt = Date.now();
        const body = await this.reading();
        await this.gatewayCall("PUT", `/fleet/nodes/${this.options.id}/heartbeat`, body).catch(
          () => undefined,
        );
      }
      await sleep(200);
    }
    this.options.log("drain timeout: deregistering with requests still running");
  }

  private async llamaGet(path: string): Promise<{ status: number; body: string } | undefined> {
    try {
      const response = await fetch(`${this.options.llama}${path}`, {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return { status: response.status, body: await response.text() };
    } catch {
      return undefined;
    }
  }

  private gatewayCall(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetch(`${this.options.gateway}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }

  /** A sleep that stop() cuts short. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.wake.signal }).catch(() => undefined);
  }
}
