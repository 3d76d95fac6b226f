import type { QuotaDemand, Quotas, TokenCounter } from "../accounting/index.js";
import { toGatewayError } from "../errors.js";
import type { ProxiedRequest } from "./features.js";
import { errorReply, type GatewayReply } from "./reply.js";
import type { Stage } from "./stages.js";

/**
 * The key's and tenant's limits: reserves the call's requests, tokens and concurrency slot in one
 * store round trip (refusing with 429 when one is used up), and puts OpenAI's rate-limit headers on
 * whatever the call answers. The reservation is settled with the call's outcome (subscribers.ts).
 */
export function limit(quotas: Quotas, counter: TokenCounter): Stage {
  return async function quotaStage(call, next) {
    const decision = await quotas.reserve(
      call.principal,
      demandOf(call.request, call.model, counter),
      call.requestId,
    );
    if (!decision.ok) {
      call.error = decision.error;
      return errorReply(decision.error, decision.headers);
    }
    call.reservation = decision.reservation;
    if (!decision.reservation) return next();
    let reply: GatewayReply;
    try {
      reply = await next();
    } catch (err) {
      // Answered here rather than rethrown, so that an error too carries the headers.
      const error = toGatewayError(err);
      call.error = error;
      reply = errorReply(error);
    }
    return { ...reply, headers: { ...reply.headers, ...decision.headers } };
  };
}

function demandOf(
  request: ProxiedRequest | undefined,
  model: string | undefined,
  counter: TokenCounter,
): QuotaDemand {
  if (!request) return { model, countPrompt: undefined, completionCap: undefined, choices: 1 };
  if (request.kind === "embeddings") {
    return { model, countPrompt: () => counter.prompt(request.body.input), completionCap: 0, choices: 1 };
  }
  const body = request.body;
  return {
    model,
    countPrompt: () =>
      request.kind === "chat" ? counter.chat(request.body.messages) : counter.prompt(request.body.prompt),
    completionCap: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    choices: body.n ?? 1,
  };
}
