import { type CacheDecision, freshId, type PromptCache, replayBody, replayEvents } from "../cache/index.js";
import { errors } from "../errors.js";
import type { Call } from "./call.js";
import type { CallOutcome, OutcomeSubscriber } from "./outcome.js";
import { type GatewayReply, jsonReply, SSE_HEADERS } from "./reply.js";
import type { Stage } from "./stages.js";
import { settledBy } from "./stream-reply.js";
import { clientWantsUsage } from "./usage-request.js";

/**
 * Stage 4: a chat or text completion asked before is answered from the prompt cache, streamed or
 * not as the client asks, whichever kind filled it; a miss goes on to the fleet with a recorder for
 * the fill. Every answer says what the cache did (`x-fleetgate-cache`, and `age` on a hit).
 */
export function cache(promptCache: PromptCache | undefined): Stage {
  return async function cacheStage(call, next) {
    const request = call.request;
    if (!promptCache || !call.model || (request?.kind !== "chat" && request?.kind !== "completions")) {
      return next();
    }
    const decision = await promptCache.decide({
      tenant: call.principal.tenant,
      kind: request.kind,
      model: call.model,
      body: request.body,
      cacheControl: call.incoming.header("cache-control"),
      signal: call.signal,
    });
    if (decision.kind === "off") return next();
    call.cache = decision.kind;
    if (decision.kind === "hit") return replay(call, decision);
    call.cacheFill = decision.fill;
    const reply = await next();
    return { ...reply, headers: { ...reply.headers, "x-fleetgate-cache": decision.kind } } as GatewayReply;
  };
}

function replay(call: Call, hit: Extract<CacheDecision, { kind: "hit" }>): GatewayReply {
  const id = freshId(hit.answer.id);
  const headers = { "x-fleetgate-cache": "hit", age: String(hit.ageS) };
  // The ledger and quotas read what the answer cost when a node gave it.
  call.usage = { usage: hit.answer.usage };
  if (!call.features?.stream) return jsonReply(200, replayBody(hit.answer, id), headers);
  const chunks = settledBy(call, events(replayEvents(hit.answer, id, clientWantsUsage(call.request))));
  return {
    status: 200,
    headers: { ...SSE_HEADERS, ...headers },
    body: {
      chunks,
      cancel: () => {
        call.lifetime.abort(errors.clientClosed());
        void chunks.return(undefined);
      },
    },
  };
}

async function* events(list: readonly string[]): AsyncGenerator<string> {
  yield* list;
}

/**
 * Stores what a call relayed once it has settled, if it is a complete answer: a 200 with no error
 * (an error event, an interrupted stream, a client that left, a gateway limit all set one) from one
 * node, not continued on another. Either way the call's flight ends, so its waiters go on.
 */
export function cacheFill(): OutcomeSubscriber {
  return function fillCache(outcome) {
    void outcome.cacheFill?.finish(complete(outcome));
  };
}

function complete(outcome: CallOutcome): boolean {
  return (
    outcome.status === 200 &&
    outcome.errorCode === undefined &&
    outcome.servedBy !== undefined &&
    outcome.attempts.every((attempt) => !attempt.continuation)
  );
}
