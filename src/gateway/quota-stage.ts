import type { QuotaDemand, Quotas, TokenCounter } from "../accounting/index.js";
import { toGatewayError } from "../errors.js";
import type { ProxiedRequest } from "./features.js";
import { errorReply, type GatewayReply } from "./reply.js";
import type { RequestView } from "./request-view.js";
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
      demandOf(call.request, call.view, call.model, counter),
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
  view: RequestView | undefined,
  model: string | undefined,
  counter: TokenCounter,
): QuotaDemand {
  if (!request || !view) return { model, countPrompt: undefined, completionCap: undefined, choices: 1 };
  const { messages, prompt } = view;
  const body = request.body as { n?: number | null };
  return {
    model,
    countPrompt: () =>
      messages ? counter.chat(messages) : prompt === undefined ? 0 : counter.prompt(prompt),
    completionCap: view.maxTokens,
    choices: request.kind === "chat" || request.kind === "completions" ? (body.n ?? 1) : 1,
  };
}
