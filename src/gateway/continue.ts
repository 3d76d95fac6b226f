import { GatewayError } from "../errors.js";
import type { ChatCompletionRequest } from "../openai/index.js";
import { continueChatStream, type StreamTranscript } from "../resilience/index.js";
import { NodeFault } from "../upstream/index.js";
import type { Call } from "./call.js";
import { tryInOrder } from "./failover.js";
import { targetOf, transportFailure } from "./node-call.js";
import type { Continued } from "./stream.js";

/**
 * Picks up a chat answer that broke off mid-stream: the next nodes of the ranking are asked, in
 * order, to continue the text the client already has, until one produces a token.
 */
export function continuationFor(
  call: Call,
  body: ChatCompletionRequest,
  transcript: StreamTranscript,
): (failedNode: string) => Promise<Continued | undefined> {
  return async (failedNode) => {
    const chunkBase = transcript.chunkBase;
    if (!transcript.continuable || !chunkBase) return undefined;
    const others = call.ranked.filter((entry) => entry.id !== failedNode);
    const outcome = await tryInOrder(others, call.guards, async (entry) => {
      const attempt = call.beginAttempt(entry, undefined, true);
      try {
        const stream = await continueChatStream({
          pools: call.pools,
          target: targetOf(entry),
          messages: body.messages,
          sentText: transcript.text,
          sentTokens: transcript.contentChunks,
          chunkBase,
          maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
          samplingParams: body,
          includeUsage: body.stream_options?.include_usage === true,
          signal: attempt.signal,
          requestId: call.requestId,
          traceparent: call.traceparent,
        });
        return { kind: "done", value: { stream, attempt } };
      } catch (err) {
        if (err instanceof GatewayError && !(err instanceof NodeFault) && !attempt.abandonedFor) {
          attempt.endWithoutFault();
          return { kind: "final", error: err };
        }
        return transportFailure<Continued>(attempt, err, call);
      }
    });
    return "value" in outcome ? outcome.value : undefined;
  };
}
