import type { KeyRing } from "../accounting/index.js";
import { errors, toGatewayError } from "../errors.js";
import type { FleetRegistry, ModelListing } from "../fleet/index.js";
import type { AdmissionQueue, NodeBreakers, RetryBudget } from "../resilience/index.js";
import { TtftTracker } from "../resilience/index.js";
import type { RoutingPolicy } from "../routing/index.js";
import { type CallTrace, type CallTracer, type Logger, passThroughTracer } from "../telemetry/index.js";
import type { UpstreamPools } from "../upstream/index.js";
import type { AffinityMemory } from "./affinity.js";
import { Call, type CallEnv, type IncomingCall } from "./call.js";
import { CallLifetime } from "./lifetime.js";
import type { LocalityPolicy } from "./locality.js";
import { type OutcomeSubscriber, Settlement } from "./outcome.js";
import { errorReply, type GatewayReply, jsonReply } from "./reply.js";
import { admit, authenticate, compose, parse, route, type Stage } from "./stages.js";
import { streamReply } from "./stream-reply.js";
import { affinityMemory, hedgeDelays, nodeStatistics } from "./subscribers.js";
import { unaryReply } from "./unary.js";

export interface GatewaySettings {
  readonly keepAliveMs: number;
  readonly requestTimeoutMs: number;
  /** Nodes tried for one request before its failure is reported (failover before the first byte). */
  readonly maxAttempts: number;
  readonly responseLimitBytes: number;
  readonly ttftTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly continuation: boolean;
  readonly hedging: boolean;
  /** In-flight requests per slot at which a node counts as saturated. */
  readonly saturationPerSlot: number;
  readonly queueTimeoutMs: number;
}

export interface GatewayDeps {
  readonly registry: FleetRegistry;
  readonly policy: RoutingPolicy;
  readonly locality: LocalityPolicy;
  /** The API keys; undefined runs the gateway open. */
  readonly keys: KeyRing | undefined;
  /** Conversation → node memory for prefix affinity; undefined when affinity is off. */
  readonly affinity: AffinityMemory | undefined;
  readonly pools: UpstreamPools;
  readonly breakers: NodeBreakers;
  readonly budget: RetryBudget;
  readonly admission: AdmissionQueue;
  readonly clock: () => number;
  readonly log: Logger;
  readonly settings: GatewaySettings;
  /** Starts each call's span; without one a client's traceparent only passes through. */
  readonly tracer?: CallTracer | undefined;
}

/**
 * The request lifecycle. Every API call, from either http path, runs the same ordered stages:
 * authenticate → parse → admit → route → dispatch (relay included) and then settles exactly once,
 * publishing one outcome to the subscribers. This is the only place that knows the order: a new
 * stage is written in stages.ts and put in the list below.
 */
export class Gateway {
  /** Calls under way, so that a drain that runs out of time can end them with `shutting_down`. */
  private readonly openCalls = new Set<CallLifetime>();
  private draining = false;
  private readonly settlement: Settlement;
  private readonly env: CallEnv;
  private readonly ttft = new TtftTracker();
  private readonly run: (call: Call) => Promise<GatewayReply>;

  constructor(private readonly deps: GatewayDeps) {
    const { settings } = deps;
    this.settlement = new Settlement(deps.log);
    this.settlement.subscribe("node-statistics", nodeStatistics(deps.registry));
    this.settlement.subscribe("hedge-delays", hedgeDelays(this.ttft));
    if (deps.affinity) this.settlement.subscribe("affinity", affinityMemory(deps.affinity, deps.registry));
    this.env = {
      pools: deps.pools,
      breakers: deps.breakers,
      budget: deps.budget,
      attempts: { breakers: deps.breakers, clock: deps.clock, onSettled: () => deps.admission.notify() },
      clock: deps.clock,
      responseLimitBytes: settings.responseLimitBytes,
      publish: (outcome) => this.settlement.publish(outcome),
    };
    const stages: Stage[] = [
      authenticate(deps.keys),
      parse(deps.locality, deps.affinity),
      admit(deps.registry, deps.admission, deps.budget, settings),
      route(deps.registry, deps.policy, settings.maxAttempts),
      this.dispatch(),
    ];
    this.run = compose(stages);
  }

  /** Adds a subscriber to every call's outcome (ledger, metrics, cache fill...). */
  onOutcome(name: string, subscriber: OutcomeSubscriber): void {
    this.settlement.subscribe(name, subscriber);
  }

  /** Refuses new calls from now on; calls already running go on. */
  beginDrain(): void {
    this.draining = true;
    this.deps.admission.rejectAll(errors.shuttingDown());
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Ends every open call now: streams get an explicit `shutting_down` error event. */
  endOpenCalls(): void {
    for (const call of this.openCalls) call.abort(errors.shuttingDown());
  }

  /** Runs one call through the stages; the reply's body, when streamed, settles the call when it ends. */
  async handle(incoming: IncomingCall): Promise<GatewayReply> {
    const lifetime = new CallLifetime(incoming.signal, this.deps.settings.requestTimeoutMs, this.openCalls);
    const call = new Call(incoming, lifetime, this.env);
    let reply: GatewayReply;
    try {
      if (this.draining) throw errors.shuttingDown();
      reply = await this.run(call);
    } catch (err) {
      const error = toGatewayError(err);
      call.error = error;
      // The http layer answers a thrown error with this same reply.
      call.bytes = byteLength(errorReply(error).body);
      call.settle(error.status);
      throw err;
    }
    const body = reply.body;
    if (typeof body === "string" || body instanceof Uint8Array) {
      call.bytes = byteLength(body);
      call.settle(reply.status);
    }
    return reply;
  }

  /** Begins a call's trace from the client's traceparent; the call ends it when it settles. */
  beginTrace(clientTraceparent: string | undefined): CallTrace {
    return (this.deps.tracer ?? passThroughTracer).begin(clientTraceparent);
  }

  ready(): boolean {
    return !this.draining && this.deps.registry.healthy().length > 0;
  }

  /** The last stage: answers the call, from a node or, for model listings, from the registry. */
  private dispatch(): Stage {
    const { registry, settings } = this.deps;
    const ttft = this.ttft;
    const streamSettings = {
      ...settings,
      hedgeDelayMs: (nodeId: string) => (settings.hedging ? ttft.hedgeDelayMs(nodeId) : undefined),
    };
    return async function dispatchStage(call) {
      const incoming = call.incoming;
      if (incoming.kind === "models") {
        const allowed = call.principal.models;
        const listed = registry.models().filter((model) => !allowed || allowed.has(model.id));
        return jsonReply(200, { object: "list", data: listed.map(modelObject) });
      }
      if (incoming.kind === "model") {
        const model = registry.models().find((listed) => listed.id === incoming.modelId);
        if (!model) {
          call.error = errors.modelNotFound(incoming.modelId);
          return errorReply(call.error);
        }
        return jsonReply(200, modelObject(model));
      }
      if (call.features?.stream) return streamReply(call, streamSettings);
      return unaryReply(call, settings.responseTimeoutMs);
    };
  }
}

function byteLength(body: string | Uint8Array): number {
  return typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
}

function modelObject(model: ModelListing) {
  return { id: model.id, object: "model", created: 0, owned_by: "fleetgate", nodes: model.nodes };
}
