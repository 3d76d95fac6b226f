import { errors } from "../errors.js";
import type { FleetRegistry, ModelListing, NodeEntry } from "../fleet/index.js";
import { type EndpointKind, endpoints, parseRequestBody } from "../openai/index.js";
import type { AdmissionQueue, NodeBreakers, RetryBudget } from "../resilience/index.js";
import { StreamTranscript, TtftTracker } from "../resilience/index.js";
import type { RoutingPolicy } from "../routing/index.js";
import type { Logger } from "../telemetry/index.js";
import type { UpstreamPools } from "../upstream/index.js";
import type { AffinityMemory } from "./affinity.js";
import { Attempt, type AttemptEnv } from "./attempt.js";
import { continuationFor } from "./continue.js";
import type { FailoverGuards } from "./failover.js";
import { conversationKeyOf, type ProxiedRequest, requestFeatures, sharedPrefixKeyOf } from "./features.js";
import { openFirstStream } from "./hedged-open.js";
import { CallLifetime } from "./lifetime.js";
import { type HeaderReader, type LocalityPolicy, requestLocality } from "./locality.js";
import { type CallContext, stopReason } from "./node-call.js";
import { errorReply, type GatewayReply, jsonReply, type PlainReply, SSE_HEADERS } from "./reply.js";
import { type Route, routeRequest } from "./route.js";
import { raceTick, relayStream, TICK } from "./stream.js";
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
  /** Conversation → node memory for prefix affinity; undefined when affinity is off. */
  readonly affinity: AffinityMemory | undefined;
  readonly pools: UpstreamPools;
  readonly breakers: NodeBreakers;
  readonly budget: RetryBudget;
  readonly admission: AdmissionQueue;
  readonly clock: () => number;
  readonly log: Logger;
  readonly settings: GatewaySettings;
}

/** One client call as the http layer hands it over. */
export interface IncomingCall {
  readonly kind: EndpointKind;
  readonly json: unknown;
  readonly rawBody: Uint8Array;
  readonly requestId: string;
  /** Aborted by the http layer when the client disconnects. */
  readonly signal: AbortSignal;
  readonly header: HeaderReader;
}

type BeginAttempt = (entry: NodeEntry, raceSignal?: AbortSignal) => Attempt;

/** Everything one call's dispatch needs, fixed once routing is done. */
export interface Dispatch {
  readonly request: ProxiedRequest;
  readonly route: Route;
  readonly guards: FailoverGuards;
  readonly begin: BeginAttempt;
  readonly context: CallContext;
  readonly headers: Record<string, string>;
  readonly lifetime: CallLifetime;
}

/**
 * The request pipeline: parse, route, admit, dispatch with failover before the first byte, relay
 * (with continuation after it), settle. It is the only place that knows the order of the stages.
 */
export class Gateway {
  /** Calls under way, so that a drain that runs out of time can end them with `shutting_down`. */
  private readonly openCalls = new Set<CallLifetime>();
  private draining = false;
  private readonly attemptEnv: AttemptEnv;
  private readonly ttft = new TtftTracker();

  constructor(private readonly deps: GatewayDeps) {
    this.attemptEnv = {
      registry: deps.registry,
      breakers: deps.breakers,
      clock: deps.clock,
      onSettled: () => deps.admission.notify(),
      observeTtft: (nodeId, ms) => this.ttft.observe(nodeId, ms),
    };
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

  async handle(call: IncomingCall): Promise<GatewayReply> {
    if (this.draining) throw errors.shuttingDown();
    const { settings } = this.deps;
    const request = parse(call);
    const conversationKey = conversationKeyOf(request);
    const sharedKey = sharedPrefixKeyOf(request, conversationKey);
    const features = requestFeatures(request, {
      prefixKey: sharedKey,
      rememberedNode: await this.deps.affinity?.recall(conversationKey, sharedKey),
      ...requestLocality(this.deps.locality, call.header),
    });
    const rank = () => routeRequest(this.deps.registry, this.deps.policy, features, settings.maxAttempts);
    let route = rank();
    const lifetime = new CallLifetime(call.signal, settings.requestTimeoutMs, this.openCalls);
    try {
      if (this.saturated(route.ranked)) {
        const waiting = route.ranked;
        await this.deps.admission.admit(
          () => this.saturated(waiting),
          settings.queueTimeoutMs,
          lifetime.signal,
        );
        route = rank();
      }
      this.deps.budget.recordRequest();
      const dispatch = this.dispatchFor(call, request, route, lifetime, [conversationKey, sharedKey]);
      if (features.stream) return await this.stream(dispatch);
      const reply = await unaryReply(dispatch, settings.responseTimeoutMs);
      lifetime.end();
      return reply;
    } catch (err) {
      lifetime.end();
      throw err;
    }
  }

  /** Everything the dispatch stages share for this call. */
  private dispatchFor(
    call: IncomingCall,
    request: ProxiedRequest,
    route: Route,
    lifetime: CallLifetime,
    affinityKeys: ReadonlyArray<string | undefined>,
  ): Dispatch {
    const context: CallContext = {
      pools: this.deps.pools,
      path: endpoints[call.kind].path,
      rawBody: call.rawBody,
      requestId: call.requestId,
      signal: lifetime.signal,
      clientGone: () => lifetime.clientGone,
      responseLimitBytes: this.deps.settings.responseLimitBytes,
    };
    return {
      request,
      route,
      guards: {
        breakers: this.deps.breakers,
        budget: this.deps.budget,
        stopped: () => lifetime.signal.aborted,
      },
      begin: (entry, raceSignal) =>
        new Attempt(
          entry,
          this.attemptEnv,
          raceSignal ? [lifetime.signal, raceSignal] : [lifetime.signal],
          (served) => this.deps.affinity?.remember(served.id, ...affinityKeys),
        ),
      context,
      headers: { "x-fleetgate-route": route.reason },
      lifetime,
    };
  }

  /** Every node the request could go to already runs as much as it should. */
  private saturated(ranked: readonly NodeEntry[]): boolean {
    const perSlot = this.deps.settings.saturationPerSlot;
    return ranked.every(
      (entry) => entry.slotsTotal !== undefined && entry.inFlight >= entry.slotsTotal * perSlot,
    );
  }

  private async stream(dispatch: Dispatch): Promise<GatewayReply> {
    const { route, guards, begin, context, headers, request } = dispatch;
    const { settings, clock } = this.deps;
    let currentNode = route.ranked[0]?.id ?? "";
    const opening = openFirstStream({
      ranked: route.ranked,
      guards,
      context,
      ttftTimeoutMs: settings.ttftTimeoutMs,
      clock,
      begin,
      hedgeDelayMs: (nodeId) => (settings.hedging ? this.ttft.hedgeDelayMs(nodeId) : undefined),
      onNode: (nodeId) => {
        currentNode = nodeId;
      },
    });
    const settledFirst = await raceTick(opening, settings.keepAliveMs);
    if (settledFirst !== TICK && !("attempt" in settledFirst)) {
      dispatch.lifetime.end();
      return errorReply(settledFirst, { ...headers, "x-fleetgate-node": currentNode });
    }
    const transcript = request.kind === "chat" && settings.continuation ? new StreamTranscript() : undefined;
    // Headers go out now; the node named is the one answering, or being waited on if none has yet.
    const chunks = untilDone(
      dispatch.lifetime,
      relayStream(opening, {
        keepAliveMs: settings.keepAliveMs,
        idleTimeoutMs: settings.idleTimeoutMs,
        maxResponseBytes: settings.responseLimitBytes,
        clientGone: context.clientGone,
        stoppedBy: () => stopReason(context, currentNode),
        commentFirst: settledFirst === TICK,
        transcript,
        continueAfter:
          transcript && request.kind === "chat"
            ? continuationFor({
                body: request.body,
                transcript,
                ranked: route.ranked,
                guards,
                context,
                begin,
              })
            : undefined,
      }),
    );
    return {
      status: 200,
      headers: { ...SSE_HEADERS, ...headers, "x-fleetgate-node": currentNode },
      body: {
        chunks,
        cancel: () => {
          dispatch.lifetime.abort(errors.clientClosed());
          void chunks.return(undefined);
        },
      },
    };
  }

  /** Models served by healthy nodes, in the OpenAI list shape. */
  models(): PlainReply {
    return jsonReply(200, { object: "list", data: this.deps.registry.models().map(modelObject) });
  }

  /** One model, as `GET /v1/models/{id}` (the SDK's `models.retrieve`) answers it. */
  model(id: string): PlainReply {
    const model = this.deps.registry.models().find((listed) => listed.id === id);
    if (!model) return errorReply(errors.modelNotFound(id));
    return jsonReply(200, modelObject(model));
  }

  ready(): boolean {
    return !this.draining && this.deps.registry.healthy().length > 0;
  }
}

function modelObject(model: ModelListing) {
  return { id: model.id, object: "model", created: 0, owned_by: "fleetgate", nodes: model.nodes };
}

function parse(call: IncomingCall): ProxiedRequest {
  switch (call.kind) {
    case "chat":
      return { kind: "chat", body: parseRequestBody(endpoints.chat.schema, call.json) };
    case "completions":
      return { kind: "completions", body: parseRequestBody(endpoints.completions.schema, call.json) };
    case "embeddings":
      return { kind: "embeddings", body: parseRequestBody(endpoints.embeddings.schema, call.json) };
  }
}

/** Ends the call's lifetime however the relay ends: completed, failed or cancelled. */
async function* untilDone<T>(lifetime: CallLifetime, chunks: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* chunks;
  } finally {
    lifetime.end();
  }
}
