import { SseDecoder } from "../../src/openai/index.js";

export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly maxTokens: number;
}

/** What the client saw of one streamed completion. Times are milliseconds from sending it. */
export interface ChatOutcome {
  readonly ok: boolean;
  readonly error?: string | undefined;
  readonly ttftMs?: number | undefined;
  readonly e2eMs?: number | undefined;
  readonly node?: string | undefined;
  /** The gateway's reason for its pick (`x-fleetgate-route`), e.g. `latency;affinity=hit`. */
  readonly route?: string | undefined;
  readonly text: string;
  readonly promptTokens?: number | undefined;
  readonly cachedTokens?: number | undefined;
  readonly completionTokens?: number | undefined;
}

interface StreamChunk {
  choices?: { delta?: { content?: string | null } }[];
  usage?: {
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number } | null;
  } | null;
  timings?: { cache_n?: number };
  error?: { code?: string; message?: string };
}

/** A stuck stream after its first token still ends the request, so a run always finishes. */
const WHOLE_REQUEST_LIMIT_MS = 60_000;

/**
 * One streamed chat completion with plain fetch, timed from the client's side: time to the first
 * `data:` event carrying content, and to the end. The request is aborted, and counts as failed, when
 * no content arrived within `ttftTimeoutMs`.
 */
export async function streamChat(
  baseUrl: string,
  request: ChatRequest,
  ttftTimeoutMs: number,
): Promise<ChatOutcome> {
  const started = performance.now();
  const controller = new AbortController();
  const ttftTimer = setTimeout(() => controller.abort(new Error("ttft-timeout")), ttftTimeoutMs);
  const limit = setTimeout(() => controller.abort(new Error("request-limit")), WHOLE_REQUEST_LIMIT_MS);
  const state: StreamState = { text: "", done: false };
  let node: string | undefined;
  let route: string | undefined;
  try {
    const response = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: request.model,
        messages: request.messages,
        max_tokens: request.maxTokens,
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal: controller.signal,
    });
    node = response.headers.get("x-fleetgate-node") ?? undefined;
    route = response.headers.get("x-fleetgate-route") ?? undefined;
    if (response.status !== 200 || !response.body) {
      await response.body?.cancel();
      return { ok: false, error: `http-${response.status}`, node, route, text: "" };
    }
    await readStream(response.body, state, () => {
      clearTimeout(ttftTimer);
      state.ttftMs = performance.now() - started;
    });
    const e2eMs = performance.now() - started;
    const error = state.error ?? (state.done ? undefined : "no-done");
    const ok = error === undefined && state.ttftMs !== undefined;
    return { ok, error, e2eMs, node, route, ...usageOf(state) };
  } catch {
    const reason = controller.signal.aborted
      ? String((controller.signal.reason as Error).message)
      : "network";
    return { ok: false, error: reason, ttftMs: state.ttftMs, node, route, text: state.text };
  } finally {
    clearTimeout(ttftTimer);
    clearTimeout(limit);
  }
}

interface StreamState {
  text: string;
  done: boolean;
  ttftMs?: number;
  error?: string;
  usageChunk?: StreamChunk;
}

async function readStream(
  body: ReadableStream<Uint8Array>,
  state: StreamState,
  onFirstContent: () => void,
): Promise<void> {
  const decoder = new SseDecoder();
  for await (const bytes of body) {
    for (const event of decoder.push(bytes)) {
      if (event.data === "[DONE]") {
        state.done = true;
        continue;
      }
      const chunk = JSON.parse(event.data) as StreamChunk;
      if (chunk.error) state.error = chunk.error.code ?? "stream-error";
      if (chunk.usage) state.usageChunk = chunk;
      const content = chunk.choices?.[0]?.delta?.content;
      if (content) {
        if (state.text === "") onFirstContent();
        state.text += content;
      }
    }
  }
}

function usageOf(state: StreamState) {
  const usage = state.usageChunk?.usage;
  return {
    ttftMs: state.ttftMs,
    text: state.text,
    promptTokens: usage?.prompt_tokens,
    completionTokens: usage?.completion_tokens,
    // llama-server reports the reused prefix in both places; older builds only in `timings`.
    cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? state.usageChunk?.timings?.cache_n,
  };
}
