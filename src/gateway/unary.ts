import { errors } from "../errors.js";
import { extractUsage } from "../openai/index.js";
import { NodeFault } from "../upstream/index.js";
import type { Attempt } from "./attempt.js";
import type { Call } from "./call.js";
import { type AttemptResult, tryInOrder } from "./failover.js";
import { callNodeWhole } from "./node-call.js";
import { errorReply, jsonReply, type PlainReply } from "./reply.js";
import { answerAllowanceMs } from "./time-budget.js";

/**
 * A call answered in one piece: the first node to answer sanely wins, and its body passes through
 * unchanged. A node that fails, answers 5xx, sends a body that is not JSON or has not answered within
 * `responseTimeoutMs` plus the time the asked-for prompt and answer take at its pace is replaced by
 * the next: llama-server sends nothing before it is done, so the size of the ask is all there is
 * to tell a long answer from a stuck node.
 */
export async function unaryReply(call: Call, responseTimeoutMs: number): Promise<PlainReply> {
  const outcome = await tryInOrder(call.ranked, call.guards, async (entry) => {
    const attempt = call.beginAttempt(entry);
    const limitMs = Math.round(responseTimeoutMs + answerAllowanceMs(entry, call.features));
    const timer = setTimeout(() => {
      attempt.abandon(
        new NodeFault(entry.id, errors.upstreamTimeout(entry.id, `no answer within ${limitMs} ms`)),
      );
    }, limitMs);
    try {
      return await answerFrom(attempt, call);
    } finally {
      clearTimeout(timer);
    }
  });
  const headers = {
    "x-fleetgate-route": call.route?.reason ?? "",
    "x-fleetgate-node": outcome.node?.id ?? "",
  };
  if ("error" in outcome) {
    call.error = outcome.error;
    return errorReply(outcome.error, headers);
  }
  return jsonReply(200, outcome.value, headers);
}

/** What one node answered, read whole and checked to be JSON. */
async function answerFrom(attempt: Attempt, call: Call): Promise<AttemptResult<Buffer>> {
  const result = await callNodeWhole(attempt, call);
  if (result.kind !== "done") return result;
  const payload = parseJson(result.value);
  if (payload === undefined) {
    const error = errors.upstreamMalformed(attempt.entry.id, "response body is not JSON");
    attempt.failByNode(error);
    return { kind: "retry", error };
  }
  const report = extractUsage(payload);
  call.usage = report;
  call.cacheFill?.recorder.whole(payload);
  attempt.succeed({ timings: report.timings });
  return result;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}
