import { errors } from "../errors.js";
import type { NodeEntry } from "../fleet/index.js";
import { extractUsage } from "../openai/index.js";
import { readBody } from "../upstream/index.js";
import type { Attempt } from "./attempt.js";
import { type FailoverGuards, tryInOrder } from "./failover.js";
import { type CallContext, callNode, transportFailure } from "./node-call.js";
import { errorReply, type GatewayReply, jsonReply } from "./reply.js";

/**
 * A call answered in one piece: the first node to answer sanely wins, and its body passes through
 * unchanged. A node that fails, answers 5xx or sends a body that is not JSON is replaced by the next.
 */
export async function unaryReply(
  ranked: readonly NodeEntry[],
  guards: FailoverGuards,
  begin: (entry: NodeEntry) => Attempt,
  context: CallContext,
  headers: Record<string, string>,
): Promise<GatewayReply> {
  const outcome = await tryInOrder(ranked, guards, async (entry) => {
    const attempt = begin(entry);
    const result = await callNode(attempt, context);
    if (result.kind !== "done") return result;
    let body: Buffer;
    try {
      body = await readBody(result.value.body, context.responseLimitBytes, entry.id);
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
  });
  const replyHeaders = { ...headers, "x-fleetgate-node": outcome.node?.id ?? "" };
  if ("error" in outcome) return errorReply(outcome.error, replyHeaders);
  return jsonReply(200, outcome.value, replyHeaders);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}
