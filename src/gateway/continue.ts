import { GatewayError } from "../errors.js";
import type { NodeEntry } from "../fleet/index.js";
import type { ChatCompletionRequest } from "../openai/index.js";
import { continueChatStream, type StreamTranscript } from "../resilience/index.js";
import { NodeFault } from "../upstream/index.js";
import type { Attempt } from "./attempt.js";
import { type FailoverGuards, tryInOrder } from "./failover.js";
import { type CallContext, targetOf, transportFailure } from "./node-call.js";
import type { Continued } from "./stream.js";

export interface ContinuationSetup {
  readonly body: ChatCompletionRequest;
  readonly transcript: StreamTranscript;
  readonly ranked: readonly NodeEntry[];
  readonly guards: FailoverGuards;
  readonly context: CallContext;
  readonly begin: (entry: NodeEntry) => Attempt;
}

/**
 * Picks up a chat answer that broke off mid-stream: the next nodes of the ranking are asked, in
 * order, to continue the text the client already has, until one produces a token.
 */
export function continuationFor(
  setup: ContinuationSetup,
): (failedNode: string) => Promise<Continued | undefined> {
  return async (failedNode) => {
    const { transcript, body } = setup;
    const chunkBase = transcript.chunkBase;
    if (!transcript.continuable || !chunkBase) return undefined;
    const others = setup.ranked.filter((entry) => entry.id !== failedNode);
    const outcome = await tryInOrder(others, setup.guards, async (entry) => {
      const attempt = setup.begin(entry);
      try {
        const stream = await continueChatStream({
          pools: setup.context.pools,
          target: targetOf(entry),
          messages: body.messages,
          sentText: transcript.text,
          sentTokens: transcript.contentChunks,
          chunkBase,
          maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
          samplingParams: body,
          includeUsage: body.stream_options?.include_usage === true,
          signal: attempt.signal,
          requestId: setup.context.requestId,
        });
        return { kind: "done", value: { stream, attempt } };
      } catch (err) {
        if (err instanceof GatewayError && !(err instanceof NodeFault) && !attempt.abandonedFor) {
          attempt.endWithoutFault();
          return { kind: "final", error: err };
        }
        return transportFailure<Continued>(attempt, err, setup.context);
      }
    });
    return "value" in outcome ? outcome.value : undefined;
  };
}
