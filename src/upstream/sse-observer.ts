import {
  DONE_DATA,
  extractUsage,
  SseDecoder,
  type SseEvent,
  type StreamEnd,
  type UsageReport,
} from "../openai/index.js";

/** Responses API events after which the node sends nothing more. */
const FINAL_RESPONSE_EVENTS = new Set(["response.completed", "response.failed", "response.incomplete"]);

/**
 * Watches a relayed SSE stream without changing it: counts data events, notices `[DONE]` and error
 * events, and picks up the usage chunk. Once the stream is known to speak JSON, it is parsed only for
 * events that can carry usage or an error, so the common token chunk costs a substring search, not
 * a parse; the opening events, which decide whether the stream is relayed at all, are parsed whole.
 * `done` follows the endpoint's own way of ending a stream (see StreamEnd).
 */
export class SseObserver {
  private readonly decoder = new SseDecoder();
  events = 0;
  done = false;
  errorPayload: unknown;
  report: UsageReport = {};
  malformed = false;
  firstEventAt: number | undefined;
  lastEventAt: number | undefined;

  constructor(
    private readonly clock: () => number,
    private readonly ending: StreamEnd = "done",
  ) {}

  /**
   * Observes the chunk's complete events and returns them, so others can read them without decoding
   * again. `strict` parses every event, for the opening of a stream: a brace on each end is no proof.
   */
  push(chunk: Uint8Array, strict = false): readonly SseEvent[] {
    const events = this.decoder.push(chunk);
    for (const event of events) this.onEvent(event, strict);
    return events;
  }

  end(): void {
    for (const event of this.decoder.flush()) this.onEvent(event);
  }

  private onEvent({ data, event }: SseEvent, strict = false): void {
    const now = this.clock();
    this.firstEventAt ??= now;
    this.lastEventAt = now;
    if (data === DONE_DATA) {
      this.done = true;
      return;
    }
    if (this.endsWith(event)) this.done = true;
    this.events += 1;
    const mayCarry =
      data.includes('"usage"') ||
      data.includes('"timings"') ||
      data.includes('"error"') ||
      (this.ending === "stop_field" && data.includes('"stop":true'));
    if (!strict && !mayCarry && data.startsWith("{") && data.endsWith("}")) return;
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      this.malformed = true;
      return;
    }
    if (typeof payload !== "object" || payload === null) {
      this.malformed = true;
      return;
    }
    if ("error" in payload) this.errorPayload = payload.error;
    // Anthropic's error event carries the error as its data, llama-server's as the whole object.
    else if (event === "error") this.errorPayload = payload;
    if (this.ending === "stop_field" && "stop" in payload && payload.stop === true) this.done = true;
    const report = extractUsage(payload, this.report.usage);
    if (report.usage) this.report = { ...this.report, usage: report.usage };
    if (report.timings) this.report = { ...this.report, timings: report.timings };
  }

  private endsWith(event: string | undefined): boolean {
    if (this.ending === "response_event") return event !== undefined && FINAL_RESPONSE_EVENTS.has(event);
    return this.ending === "message_stop" && event === "message_stop";
  }
}
