/**
 * Sorts every answer the gateway gives into success, explicit error, or violation. A violation is
 * anything a client could mistake for an answer or wait on forever: a stream that just stops, an
 * error followed by [DONE], [DONE] after garbage, a chunk id that changes mid-answer, a hang.
 */

export type RequestKind = "chat" | "completions";
export type Verdict = "success" | "error" | "violation";

export interface Classified {
  readonly verdict: Verdict;
  /** Why: the error code for explicit errors, what went wrong for violations. */
  readonly reason: string;
  /** Text the client received (content deltas or completion text). */
  readonly text: string;
  /** Chunk ids seen in a stream, in order of first appearance. */
  readonly ids: readonly string[];
  /**
   * The stream carried chunks the gateway wrote itself (a continuation): llama-server and the sim
   * serialise `choices` first, the gateway's continuation serialises `id` first.
   */
  readonly continued: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorCode(payload: unknown): string | undefined {
  if (!isRecord(payload) || !isRecord(payload.error)) return undefined;
  const { code, message } = payload.error;
  if (typeof message !== "string") return undefined;
  return typeof code === "string" && code !== "" ? code : "uncoded_error";
}

const verdictOf = (verdict: Verdict, reason: string, partial: Partial<Classified> = {}): Classified => ({
  verdict,
  reason,
  text: "",
  ids: [],
  continued: false,
  ...partial,
});

/** A non-streamed answer: a complete, valid body, or an error envelope with an error status. */
export function classifyUnary(kind: RequestKind, status: number, body: string): Classified {
  const payload = parseJson(body);
  if (status >= 400) {
    const code = errorCode(payload);
    return code
      ? verdictOf("error", code)
      : verdictOf("violation", `HTTP ${status} without an error envelope`);
  }
  if (status !== 200) return verdictOf("violation", `unexpected HTTP ${status}`);
  if (!isRecord(payload) || !Array.isArray(payload.choices)) {
    return verdictOf("violation", "200 with a body that is not a completion");
  }
  const choice: unknown = payload.choices[0];
  const text = !isRecord(choice)
    ? undefined
    : kind === "chat"
      ? isRecord(choice.message)
        ? choice.message.content
        : undefined
      : choice.text;
  if (typeof text !== "string" || text === "") return verdictOf("violation", "200 without content");
  return verdictOf("success", "complete", { text });
}

/** The `data:` payloads of an SSE body; comments (keep-alives) are dropped. */
export function sseData(body: string): string[] {
  const out: string[] = [];
  for (const block of body.split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/).filter((line) => line.startsWith("data:"));
    if (lines.length > 0) out.push(lines.map((line) => line.slice(5).replace(/^ /, "")).join("\n"));
  }
  return out;
}

function pieceOf(kind: RequestKind, chunk: Record<string, unknown>): { text: string; finished: boolean } {
  const choice: unknown = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  if (!isRecord(choice)) return { text: "", finished: false };
  const finished = typeof choice.finish_reason === "string";
  const raw = kind === "chat" ? (isRecord(choice.delta) ? choice.delta.content : undefined) : choice.text;
  return { text: typeof raw === "string" ? raw : "", finished };
}

/** A streamed answer: one unbroken answer ending in [DONE], or an explicit error event and no [DONE]. */
export function classifyStream(
  kind: RequestKind,
  status: number,
  contentType: string,
  body: string,
): Classified {
  if (status !== 200) return classifyUnary(kind, status, body);
  if (!contentType.includes("text/event-stream")) return verdictOf("violation", `stream as ${contentType}`);
  const ids: string[] = [];
  let text = "";
  let finished = false;
  let continued = false;
  const events = sseData(body);
  for (const [index, data] of events.entries()) {
    const last = index === events.length - 1;
    const seen = { text, ids, continued };
    if (data === "[DONE]") {
      if (!last) return verdictOf("violation", "events after [DONE]", seen);
      if (text === "") return verdictOf("violation", "[DONE] without content", seen);
      if (!finished) return verdictOf("violation", "[DONE] without a finish_reason", seen);
      return verdictOf("success", "complete", seen);
    }
    const payload = parseJson(data);
    if (!isRecord(payload)) return verdictOf("violation", `garbage relayed: ${data.slice(0, 60)}`, seen);
    const code = errorCode(payload);
    if (code) {
      return last
        ? verdictOf("error", code, seen)
        : verdictOf("violation", `events after the error event (${code})`, seen);
    }
    if (typeof payload.id === "string" && !ids.includes(payload.id)) ids.push(payload.id);
    if (ids.length > 1) return verdictOf("violation", `chunk id changed: ${ids.join(" → ")}`, seen);
    if (data.startsWith('{"id"')) continued = true;
    const piece = pieceOf(kind, payload);
    text += piece.text;
    finished ||= piece.finished;
  }
  return verdictOf("violation", "stream ended without [DONE] or an error event", { text, ids, continued });
}
