import { errors, type GatewayError } from "../errors.js";
import type { FleetRegistry, NodeEntry } from "../fleet/index.js";
import { type EndpointKind, endpoints, extractUsage, parseRequestBody } from "../openai/index.js";
import type { RoutingPolicy } from "../routing/index.js";
import type { Logger } from "../telemetry/index.js";
import { readBody, type UpstreamPools } from "../upstream/index.js";
import type { AffinityMemory } from "./affinity.js";
import { Attempt } from "./attempt.js";
import { tryInOrder } from "./failover.js";
import { type ProxiedRequest, prefixKeyOf, requestFeatures } from "./features.js";
import { type HeaderReader, type LocalityPolicy, requestLocality } from "./locality.js";
import { type CallContext, callNode, stopReason, transportFailure } from "./node-call.js";
import { errorReply, type GatewayReply, jsonReply, SSE_HEADERS } from "./reply.js";
import { routeRequest } from "./route.js";
import { type OpenedStream, raceTick, relayStream, TICK } from "./stream.js";

export interface GatewaySettings {
  readonly keepAliveMs: number;
  readonly requestTimeoutMs: number;
  /** Nodes tried for one request before its failure is reported (failover before the first byte). */
  readonly maxAttempts: number;
  readonly responseLimitBytes: number;
}

export interface GatewayDeps {
  readonly registry: FleetRegistry;
  readonly policy: RoutingPolicy;
  readonly locality: LocalityPolicy;
  /** Conversation → node memory for prefix affinity; undefined when affinity is off. */
  readonly affinity: AffinityMemory | undefined;
  readonly pools: UpstreamPools;
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

type BeginAttempt = (entry: NodeEntry) => Attempt;

/**
 * The request pipeline: parse, route, dispatch with failover before the first byte, relay, settle.
 * It is the only place that knows the order of the stages.
 */
export class Gateway {
  /** Aborted when a drain runs out of time: every open call ends with `shutting_down`. */
  private readonly shutdown = new AbortController();
  private draining = false;

  constructor(private readonly deps: GatewayDeps) {}

  /** Refuses new calls from now on; calls already running go on. */
  beginDrain(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Ends every open call now: streams get an explicit `shutting_down` error event. */
  endOpenCalls(): void {
    this.shutdown.abort(errors.shuttingDown());
  }

  async handle(call: IncomingCall): Promise<GatewayReply> {
    if (this.draining) throw errors.shuttingDown();
    const request = parse(call);
    const prefixKey = prefixKeyOf(request);
    const rememberedNode = await this.deps.affinity?.recall(prefixKey);
    const features = requestFeatures(request, {
      prefixKey,
      rememberedNode,
      ...requestLocality(this.deps.locality, call.header),
    });
    const { ranked, reason } = routeRequest(
      this.deps.registry,
      this.deps.policy,
      features,
      this.deps.settings.maxAttempts,
    );
    const headers = { "x-fleetgate-route": reason };
    const cancel = new AbortController();
    const signal = AbortSignal.any([
      call.signal,
      cancel.signal,
      this.shutdown.signal,
      AbortSignal.timeout(this.deps.settings.requestTimeoutMs),
    ]);
    const context: CallContext = {
      pools: this.deps.pools,
      path: endpoints[call.kind].path,
      rawBody: call.rawBody,
      requestId: call.requestId,
      signal,
      clientGone: () => call.signal.aborted || cancel.signal.aborted,
      responseLimitBytes: this.deps.settings.responseLimitBytes,
    };
    const begin = (entry: NodeEntry) =>
      new Attempt(entry, this.deps.registry, this.deps.clock, (served) =>
        this.deps.affinity?.remember(prefixKey, served.id),
      );
    return features.stream
      ? this.stream(ranked, begin, context, headers, cancel)
      : this.unary(ranked, begin, context, headers);
  }

  private async unary(
    ranked: readonly NodeEntry[],
    begin: BeginAttempt,
    context: CallContext,
    headers: Record<string, string>,
  ) {
    let lastNode = "";
    const outcome = await tryInOrder(
      ranked,
      ranked.length,
      async (entry) => {
        lastNode = entry.id;
        const attempt = begin(entry);
        const result = await callNode(attempt, context);
        if (result.kind !== "done") return result;
        let body: Buffer;
        try {
          body = await readBody(result.value.body, context.responseLimitBytes);
        } catch (err) {
          return transportFailure<Buffer>(attempt, err, context);
        }
        const payload = parseJson(body);
        if (payload === undefined) {
          const error = errors.upstreamMalformed(entry.id, "response body is not JSON");
          attempt.failByNode(error);
          return { kind: "retry", error };
        }
        attempt.succeed({ timings: extractUsage(payload).timings });
        return { kind: "done", value: body };
      },
      context.clientGone,
    );
    const replyHeaders = { ...headers, "x-fleetgate-node": lastNode };
    if ("error" in outcome) return errorReply(outcome.error, replyHeaders);
    return jsonReply(200, outcome.value, replyHeaders);
  }

  private async stream(
    ranked: readonly NodeEntry[],
    begin: BeginAttempt,
    context: CallContext,
    headers: Record<string, string>,
    cancel: AbortController,
  ): Promise<GatewayReply> {
    let currentNode = ranked[0]?.id ?? "";
    const opening: Promise<OpenedStream | GatewayError> = tryInOrder(
      ranked,
      ranked.length,
      (entry) => {
        currentNode = entry.id;
        return this.openStream(begin(entry), context);
      },
      context.clientGone,
    ).then((outcome) => ("error" in outcome ? outcome.error : outcome.value));
    const settledFirst = await raceTick(opening, this.deps.settings.keepAliveMs);
    if (settledFirst !== TICK && !("attempt" in settledFirst)) {
      return errorReply(settledFirst, { ...headers, "x-fleetgate-node": currentNode });
    }
    // Headers go out now; the node named is the one answering, or being waited on if none has yet.
    const chunks = relayStream(opening, {
      keepAliveMs: this.deps.settings.keepAliveMs,
      clock: this.deps.clock,
      clientGone: context.clientGone,
      stoppedBy: () => stopReason(context, currentNode),
      commentFirst: settledFirst === TICK,
    });
    return {
      status: 200,
      headers: { ...SSE_HEADERS, ...headers, "x-fleetgate-node": currentNode },
      body: {
        chunks,
        cancel: () => {
          cancel.abort(errors.clientClosed());
          void chunks.return(undefined);
        },
      },
    };
  }

  private async openStream(attempt: Attempt, context: CallContext) {
    const entry = attempt.entry;
    const result = await callNode(attempt, context);
    if (result.kind !== "done") return result;
    const chunks = (result.value.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    try {
      const first = await chunks.next();
      if (!first.done) return { kind: "done" as const, value: { attempt, chunks, first: first.value } };
      const error = errors.streamInterrupted(entry.id, "the node closed the stream before the first byte");
      attempt.failByNode(error);
      return { kind: "retry" as const, error };
    } catch (err) {
      return transportFailure<OpenedStream>(attempt, err, context);
    }
  }

  /** Models served by healthy nodes, in the OpenAI list shape. */
  models(): GatewayReply {
    const data = this.deps.registry.models().map((model) => ({
      id: model.id,
      object: "model",
      created: 0,
      owned_by: "fleetgate",
      nodes: model.nodes,
    }));
    return jsonReply(200, { object: "list", data });
  }

  ready(): boolean {
    return !this.draining && this.deps.registry.healthy().length > 0;
  }
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

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}
