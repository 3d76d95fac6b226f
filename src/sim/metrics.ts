/**
 * The counters and gauges of llama-server's `/metrics`. Like llama-server, the two throughput gauges
 * cover only the work done since the previous scrape.
 */
interface Totals {
  promptTokens: number;
  promptTokensCached: number;
  promptMs: number;
  predictedTokens: number;
  predictedMs: number;
}

const emptyTotals = (): Totals => ({
  promptTokens: 0,
  promptTokensCached: 0,
  promptMs: 0,
  predictedTokens: 0,
  predictedMs: 0,
});

export interface LiveLoad {
  processing: number;
  deferred: number;
}

export class SimMetrics {
  private readonly total = emptyTotals();
  private bucket = emptyTotals();
  private nDecodeTotal = 0;
  private nBusySlotsTotal = 0;
  private nTokensMax = 0;

  /** `tokens` were evaluated in `ms`; `cachedTokens` came from the slot's cache for free. */
  recordPrompt(tokens: number, ms: number, cachedTokens = 0): void {
    this.total.promptTokens += tokens;
    this.total.promptTokensCached += cachedTokens;
    this.total.promptMs += ms;
    this.bucket.promptTokens += tokens;
    this.bucket.promptMs += ms;
  }

  recordPredicted(tokens: number, ms: number): void {
    this.total.predictedTokens += tokens;
    this.total.predictedMs += ms;
    this.bucket.predictedTokens += tokens;
    this.bucket.predictedMs += ms;
  }

  /** One decode step, and how many slots were busy during it. */
  recordDecode(busySlots: number): void {
    this.nDecodeTotal += 1;
    this.nBusySlotsTotal += busySlots;
  }

  /** The largest number of tokens (prompt plus generated) one slot has held. */
  recordSlotTokens(tokens: number): void {
    this.nTokensMax = Math.max(this.nTokensMax, tokens);
  }

  render(load: LiveLoad): string {
    const bucket = this.bucket;
    this.bucket = emptyTotals();
    const lines: string[] = [];
    const add = (name: string, type: "counter" | "gauge", help: string, value: number): void => {
      lines.push(
        `# HELP llamacpp:${name} ${help}`,
        `# TYPE llamacpp:${name} ${type}`,
        `llamacpp:${name} ${value}`,
      );
    };
    add("prompt_tokens_total", "counter", "Number of prompt tokens processed.", this.total.promptTokens);
    add(
      "prompt_tokens_cached_total",
      "counter",
      "Number of prompt tokens reused from the cache",
      this.total.promptTokensCached,
    );
    add("prompt_seconds_total", "counter", "Prompt process time", this.total.promptMs / 1000);
    add(
      "tokens_predicted_total",
      "counter",
      "Number of generation tokens processed.",
      this.total.predictedTokens,
    );
    add("tokens_predicted_seconds_total", "counter", "Predict process time", this.total.predictedMs / 1000);
    add("n_decode_total", "counter", "Total number of llama_decode() calls", this.nDecodeTotal);
    add(
      "n_busy_slots_per_decode",
      "counter",
      "Average number of busy slots per llama_decode() call",
      this.nDecodeTotal === 0 ? 0 : this.nBusySlotsTotal / this.nDecodeTotal,
    );
    add("n_tokens_max", "counter", "Largest observed n_tokens.", this.nTokensMax);
    add(
      "prompt_tokens_seconds",
      "gauge",
      "Average prompt throughput in tokens/s.",
      rate(bucket.promptTokens, bucket.promptMs),
    );
    add(
      "predicted_tokens_seconds",
      "gauge",
      "Average generation throughput in tokens/s.",
      rate(bucket.predictedTokens, bucket.predictedMs),
    );
    add("requests_processing", "gauge", "Number of requests processing.", load.processing);
    add("requests_deferred", "gauge", "Number of requests deferred.", load.deferred);
    return `${lines.join("\n")}\n`;
  }
}

function rate(tokens: number, ms: number): number {
  return ms > 0 ? (tokens * 1000) / ms : 0;
}
