import { DONE_DATA, extractUsage, SseDecoder, type SseEvent, type UsageReport } from "../openai/index.js";

/**
 * Watches a relayed SSE stream without changing it: counts data events, notices `[DONE]` and error
 * events, and picks up the usage chunk. JSON is parsed only for events that can carry usage or an
 * error, so the common token chunk costs a substring search, not a parse.
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

  /** Observes the chunk's complete events and returns them, so others can read them without decoding again. */
  push(chunk: Uint8Array): readonly SseEvent[] {
    const events = this.decoder.push(chunk);
    for (const event of events) this.onData(event.data);
    return events;
  }

  end(): void {
    for (const event of this.decoder.flush()) this.onData(event.data);
  }

  private onData(data: string): void {
    const now = this.clock();
    this.firstEventAt ??= now;
    this.lastEventAt = now;
    if (data === DONE_DATA) {
      this.done = true;
      return;
    }
    this.events += 1;
    const mayCarry = data.includes('"usage"') || data.includes('"timings"') || data.includes('"error"');
    if (!mayCarry && data.startsWith("{") && data.endsWith("}")) return;
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
