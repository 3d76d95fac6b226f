import { bearerToken, type KeyRing, type Principal } from "../accounting/index.js";
import { errors, GatewayError } from "../errors.js";
import type { FleetRegistry } from "../fleet/index.js";
import { endpoints, parseRequestBody } from "../openai/index.js";
import type { AdmissionQueue, RetryBudget } from "../resilience/index.js";
import { findEligible, type NodeView, type RoutingPolicy } from "../routing/index.js";
import type { AffinityMemory } from "./affinity.js";
import type { Call, IncomingCall } from "./call.js";
import {
  affinityLinksOf,
  conversationKeyOf,
  type ProxiedRequest,
  requestFeatures,
  sharedPrefixKeyOf,
} from "./features.js";
import { type HeaderReader, type LocalityPolicy, requestLocality } from "./locality.js";
import type { ModelNames } from "./model-names.js";
import type { GatewayReply } from "./reply.js";
import { viewOf } from "./request-view.js";
import { routeRequest } from "./route.js";
import { bodyAskingForUsage } from "./usage-request.js";

export type Next = () => Promise<GatewayReply>;
/** One step of every call: it reads and fills in the call, then hands on to the next stage (or answers). */
export type Stage = (call: Call, next: Next) => Promise<GatewayReply>;

/** Runs the stages in order; the last one must answer. */
export function compose(stages: readonly Stage[]): (call: Call) => Promise<GatewayReply> {
  return (call) => {
    const step = (index: number): Promise<GatewayReply> => {
      const stage = stages[index];
      if (!stage) return Promise.reject(errors.internal(new Error("no stage answered the call")));
      return stage(call, () => step(index + 1));
    };
    return step(0);
  };
}

/**
 * Who is calling. With a key ring every call needs a key (`Authorization: Bearer` or `x-api-key`);
 * without one the gateway runs open and every call is the anonymous tenant.
 */
export function authenticate(keys: KeyRing | undefined): Stage {
  return async function authenticateStage(call, next) {
    if (keys) {
      const principal = await keys.authenticate(presentedKey(call.incoming.header));
      if (principal instanceof GatewayError) throw principal;
      call.principal = principal;
    }
    return next();
  };
}

function presentedKey(header: HeaderReader): string | undefined {
  const authorization = header("authorization");
  if (authorization !== undefined) {
    // A malformed header is a wrong key, not a missing one.
    return bearerToken(authorization) ?? authorization;
  }
  return header("x-api-key")?.trim() || undefined;
}

/**
 * What is asked: the validated body, the model (resolved through models.aliases and
 * models.default, then checked against the key), where it may be served (the key's residency pin,
 * narrowed by request headers, never widened) and what routing needs.
 */
export function parse(
  locality: LocalityPolicy,
  affinity: AffinityMemory | undefined,
  models: ModelNames,
): Stage {
  return async function parseStage(call, next) {
    const incoming = call.incoming;
    if (incoming.kind === "models") return next();
    if (incoming.kind === "model") {
      call.model = incoming.modelId;
      checkModel(call.principal, incoming.modelId);
      return next();
    }
    if (incoming.unreadable) throw incoming.unreadable;
    const request = parseBody(incoming);
    call.request = request;
    // Every stream is settled from the node's own usage count, asked for here when the client did not.
    call.upstreamBody = bodyAskingForUsage(request, incoming.rawBody);
    const model = models.resolve(request.body.model);
    call.model = model;
    checkModel(call.principal, model);
    // One view of the body for every reader: routing's features here, the quota stage's demand later.
    const view = viewOf(request);
    call.view = view;
    const conversationKey = conversationKeyOf(view);
    const sharedKey = sharedPrefixKeyOf(view, conversationKey);
    const links = affinityLinksOf(view, conversationKey);
    // The conversation's own key first: the node that serves it counts it as held in one of its slots.
    call.affinityKeys = [...new Set([conversationKey, ...links.map((link) => link.key)])].filter(
      (key) => key !== undefined,
    );
    const place = requestLocality(locality, incoming);
    call.features = requestFeatures(view, model, {
      prefixKey: sharedKey,
      recalled: await affinity?.recall(links),
      origin: place.origin,
      allowedRegions: pinned(call.principal, place.allowedRegions),
    });
    return next();
  };
}

function checkModel(principal: Principal, model: string): void {
  if (principal.models && !principal.models.has(model)) throw errors.modelNotAllowed(model);
}

/** The key's regions bound whatever the request narrowed to; asking only for others is refused. */
function pinned(
  principal: Principal,
  asked: ReadonlySet<string> | undefined,
): ReadonlySet<string> | undefined {
  const pin = principal.regions;
  if (!pin) return asked;
  if (!asked) return pin;
  const allowed = new Set([...asked].filter((region) => pin.has(region)));
  if (allowed.size === 0 && asked.size > 0) throw errors.regionNotAllowed([...asked]);
  return allowed;
}

function parseBody(incoming: Extract<IncomingCall, { json: unknown }>): ProxiedRequest {
  // Each kind's schema gives that kind's body: the pair is a ProxiedRequest by construction.
  return {
    kind: incoming.kind,
    body: parseRequestBody(endpoints[incoming.kind].schema, incoming.json),
  } as ProxiedRequest;
}

export interface AdmitSettings {
  /** In-flight requests per slot at which a node counts as saturated. */
  readonly saturationPerSlot: number;
  readonly queueTimeoutMs: number;
}

/**
 * Whether the call may go ahead now: when every node that could serve it is saturated it waits in
 * the bounded admission queue, within its key's (or address's) fair share of it, or is refused with
 * `overloaded`; then it counts for the retry budget.
 */
export function admit(
  registry: FleetRegistry,
  admission: AdmissionQueue,
  budget: RetryBudget,
  settings: AdmitSettings,
): Stage {
  const saturated = (nodes: readonly NodeView[]) =>
    nodes.length > 0 &&
    nodes.every(
      (node) =>
        node.slotsTotal !== undefined && node.inFlight >= node.slotsTotal * settings.saturationPerSlot,
    );
  return async function admitStage(call, next) {
    const features = call.features;
    if (!features) return next();
    // Snapshot views are the live node entries, so the wait re-checks real load.
    const candidates = findEligible(registry.snapshot(), features).nodes;
    if (saturated(candidates)) {
      const wait = settings.queueTimeoutMs;
      const queuedAt = call.clock();
      let admitted = false;
      try {
        await admission.admit(() => saturated(candidates), wait, call.signal, queueOwner(call));
        admitted = true;
      } finally {
        call.admission = { waitedMs: call.clock() - queuedAt, admitted };
      }
    }
    budget.recordRequest();
    return next();
  };
}

/** Whose share of the admission queue a call takes: its key's, or on an open gateway its address's. */
function queueOwner(call: Call): string {
  const keyId = call.principal.keyId;
  return keyId === undefined ? `address:${call.incoming.clientAddress ?? "unknown"}` : `key:${keyId}`;
}

/** Where the call may go, best first; "nowhere" is the error a client can act on. */
export function route(registry: FleetRegistry, policy: RoutingPolicy, maxAttempts: number): Stage {
  return async function routeStage(call, next) {
    if (call.features) call.route = routeRequest(registry, policy, call.features, maxAttempts);
    return next();
  };
}
