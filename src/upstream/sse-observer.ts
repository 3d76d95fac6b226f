import { DONE_DATA, extractUsage, SseDecoder, type SseEvent, type UsageReport } from "../openai/index.js";

/**
 * Watches a relayed SSE stream without changing it: counts data events, notices `[DONE]` and error
 * events, and picks up the usage chunk. Once the stream is known to speak JSON, it is parsed only for
 * events that can carry usage or an error, so the common token chunk costs a substring search, not
 * a parse; the opening events, which decide whether the stream is relayed at all, are parsed whole.
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

  constructor(private readonly clock: () => number) {}

  /**
   * Observes the chunk's complete events and returns them, so others can read them without decoding
   * again. `strict` parses every event, for the opening of a stream: a brace on each end is no proof.
   */
  push(chunk: Uint8Array, strict = false): readonly SseEvent[] {
    const events = this.decoder.push(chunk);
    for (const event of events) this.onData(event.data, strict);
    return events;
  }

  end(): void {
    for (const event of this.decoder.flush()) this.onData(event.data);
  }

  private onData(data: string, strict = false): void {
    const now = this.clock();
    this.firstEventAt ??= now;
    this.lastEventAt = now;
    if (data === DONE_DATA) {
      this.done = true;
      return;
    }
    this.events += 1;
    const mayCarry = data.includes('"usage"') || data.includes('"timings"') || data.includes('"error"');
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
    const report = extractUsage(payload);
    if (report.usage) this.report = { ...this.report, usage: report.usage };
    if (report.timings) this.report = { ...this.report, timings: report.timings };
  }
}
