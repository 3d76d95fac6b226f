import type { KeyRing, Quotas, TokenCounter } from "../accounting/index.js";
import type { PromptCache } from "../cache/index.js";
import { errors, toGatewayError } from "../errors.js";
import type { FleetRegistry, ModelListing } from "../fleet/index.js";
import type { AdmissionQueue, NodeBreakers, RetryBudget } from "../resilience/index.js";
import { TtftTracker } from "../resilience/index.js";
import type { RoutingPolicy } from "../routing/index.js";
import { type CallTrace, type CallTracer, type Logger, passThroughTracer } from "../telemetry/index.js";
import type { UpstreamPools } from "../upstream/index.js";
import type { AffinityMemory } from "./affinity.js";
import { cache, cacheFill } from "./cache-stage.js";
import { Call, type CallEnv, type IncomingCall } from "./call.js";
import { CallLifetime } from "./lifetime.js";
import type { HeaderReader, LocalityPolicy } from "./locality.js";
import { type ModelNameSettings, ModelNames } from "./model-names.js";
import { type OutcomeSubscriber, Settlement } from "./outcome.js";
import { limit } from "./quota-stage.js";
import { errorReply, type GatewayReply, jsonReply } from "./reply.js";
import { admit, authenticate, compose, parse, route, type Stage } from "./stages.js";
import { streamReply } from "./stream-reply.js";
import { affinityMemory, hedgeDelays, nodeStatistics, quotaSettlement } from "./subscribers.js";
import { unaryReply } from "./unary.js";

export interface GatewaySettings {
  readonly keepAliveMs: number;
  readonly keepAliveAfterMs: number;
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
  /** The prompt cache; undefined when `cache.mode` is off. */
  readonly cache?: PromptCache | undefined;
  /** Starts each call's span; without one a client's traceparent only passes through. */
  readonly tracer?: CallTracer | undefined;
  /** Per-key and per-tenant limits and the usage ledger; `now` is the epoch clock of the ledger's minutes. */
  readonly quotas?:
    | { readonly quotas: Quotas; readonly counter: TokenCounter; readonly now: () => number }
    | undefined;
  /** models.aliases and models.default; none by default. */
  readonly modelNames?: ModelNameSettings | undefined;
  /** Whether a call presents the admin token: only then does the model list name nodes. */
  readonly isAdmin?: ((header: HeaderReader) => boolean) | undefined;
}

/**
 * The request lifecycle. Every API call, from either http path, runs the same ordered stages:
 * authenticate → parse → limit (quotas) → admit → cache → route → dispatch (relay included) and then
 * settles exactly once,
 * publishing one outcome to the subscribers. This is the only place that knows the order: a new
 * stage is written in stages.ts (or a file of its own, as quota-stage.ts) and put in the list below.
 */
export class Gateway {
  /** Calls under way, so that a drain that runs out of time can end them with `shutting_down`. */
  private readonly openCalls = new Set<CallLifetime>();
  private draining = false;
  private readonly settlement: Settlement;
  private readonly env: CallEnv;
  private readonly ttft = new TtftTracker();
  private readonly run: (call: Call) => Promise<GatewayReply>;
  private readonly models: ModelNames;

  constructor(private readonly deps: GatewayDeps) {
    const { settings } = deps;
    this.settlement = new Settlement(deps.log);
    this.settlement.subscribe("node-statistics", nodeStatistics(deps.registry));
    this.settlement.subscribe("hedge-delays", hedgeDelays(this.ttft));
    if (deps.affinity) this.settlement.subscribe("affinity", affinityMemory(deps.affinity, deps.registry));
    if (deps.quotas)
      this.settlement.subscribe("quotas", quotaSettlement(deps.quotas.quotas, deps.quotas.now));
    if (deps.cache) this.settlement.subscribe("cache-fill", cacheFill());
    this.env = {
      pools: deps.pools,
      breakers: deps.breakers,
      budget: deps.budget,
      attempts: { breakers: deps.breakers, clock: deps.clock, onSettled: () => deps.admission.notify() },
      clock: deps.clock,
      responseLimitBytes: settings.responseLimitBytes,
      publish: (outcome) => this.settlement.publish(outcome),
    };
    this.models = new ModelNames(deps.modelNames ?? { aliases: {}, fallback: undefined }, () =>
      deps.registry.all().map((entry) => entry.models),
    );
    const stages: Stage[] = [
      authenticate(deps.keys),
      parse(deps.locality, deps.affinity, this.models),
      ...(deps.quotas ? [limit(deps.quotas.quotas, deps.quotas.counter)] : []),
      admit(deps.registry, deps.admission, deps.budget, settings),
      cache(deps.cache),
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
    const names = this.models;
    const listing = (call: Call) =>
      modelList(registry.models(), names.aliases, this.deps.isAdmin?.(call.incoming.header) === true);
    return async function dispatchStage(call) {
      const incoming = call.incoming;
      if (incoming.kind === "models") {
        const allowed = call.principal.models;
        const aliases = names.aliases;
        // A configured alias is listed to a key allowed its model, which is what the key's check sees.
        const listed = listing(call).filter(
          (model) => !allowed || allowed.has(aliases[model.id] ?? model.id),
        );
        return jsonReply(200, { object: "list", data: listed });
      }
      if (incoming.kind === "model") {
        const model = listing(call).find((listed) => listed.id === incoming.modelId);
        if (!model) {
          call.error = errors.modelNotFound(incoming.modelId);
          return errorReply(call.error);
        }
        return jsonReply(200, model);
      }
      if (call.features?.stream) return streamReply(call, streamSettings);
      return unaryReply(call, settings.responseTimeoutMs);
    };
  }
}

function byteLength(body: string | Uint8Array): number {
  return typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
}

/**
 * The model list: every name a node answers to and every configured alias whose model is served,
 * with llama-server's `aliases` and `meta`; the nodes serving each only for the admin.
 */
function modelList(
  served: readonly ModelListing[],
  aliases: Readonly<Record<string, string>>,
  admin: boolean,
) {
  const byId = new Map(served.map((model) => [model.id, model]));
  const configured = Object.entries(aliases).flatMap(([alias, target]) => {
    const model = byId.get(target);
    return model && !byId.has(alias) ? [{ ...model, id: alias, aliases: [target] }] : [];
  });
  return [...served, ...configured].map((model) => ({
    id: model.id,
    object: "model",
    created: model.created,
    owned_by: "fleetgate",
    aliases: model.aliases,
    ...(model.meta ? { meta: model.meta } : {}),
    ...(admin ? { nodes: model.nodes } : {}),
  }));
}
