import { DecayingAverage } from "./stats.js";

/** What the node said of one request's prompt phase, and what this gateway had pending there as it began. */
export interface PrefillSample {
  /** Prompt tokens the node evaluated (its cache's share excluded): llama-server's `timings.prompt_n`. */
  readonly tokens: number;
  readonly ms: number;
  /** Uncached prompt tokens of this gateway's other requests on the node still before their first token. */
  readonly pendingAtStart: number;
}

/** Too few tokens make the rate mostly fixed overhead. */
const MIN_SAMPLE_TOKENS = 8;

/**
 * The prompt work waiting on one node, and how the node shares its compute between prompts.
 *
 * llama-server evaluates every slot's prompt in one shared batch, so a short turn sent beside a long
 * cold prefill waits for most of it, even with slots free. How much of the pending work lands on a
 * new request (`sharing`, 0..1) is learned: the node's rate is measured on requests that began with
 * nothing pending, and each request that began beside pending work shows how much it was slowed.
 * A node that evaluates prompts in parallel (the simulator, some multi-GPU setups) learns 0.
 */
export class PrefillWork {
  private pendingTokens = 0;
  private pendingRequests = 0;
  private readonly alone: DecayingAverage;
  private readonly shared: DecayingAverage;
  /** Every sample's rate, corrected by the current sharing: the only estimate until one ran alone. */
  private readonly corrected: DecayingAverage;

  constructor(halfLifeMs: number) {
    this.alone = new DecayingAverage(halfLifeMs);
    this.shared = new DecayingAverage(halfLifeMs);
    this.corrected = new DecayingAverage(halfLifeMs);
  }

  /** A request with `tokens` to evaluate was sent; returns what was pending before it. */
  begin(tokens: number): number {
    const before = this.pendingTokens;
    this.pendingTokens += tokens;
    this.pendingRequests += 1;
    return before;
  }

  /** That request's first token came (or it ended before one did): its prompt is no longer pending. */
  done(tokens: number): void {
    this.pendingTokens = Math.max(0, this.pendingTokens - tokens);
    this.pendingRequests = Math.max(0, this.pendingRequests - 1);
  }

  get tokens(): number {
    return this.pendingTokens;
  }

  get requests(): number {
    return this.pendingRequests;
  }

  /** Prompt tokens per second the node evaluates when nothing else is pending on it. */
  get tokensPerSec(): number | undefined {
    return this.alone.value ?? this.corrected.value;
  }

  /** Share of the pending work a new prompt waits for; llama-server's one batch is the prior. */
  get sharing(): number {
    return this.shared.value ?? 1;
  }

  observe(sample: PrefillSample, now: number): void {
    if (sample.tokens < MIN_SAMPLE_TOKENS || sample.ms <= 0) return;
    const rate = (sample.tokens / sample.ms) * 1000;
    if (sample.pendingAtStart === 0) {
      this.alone.observe(rate, now);
      return;
    }
    this.corrected.observe(((sample.tokens + this.sharing * sample.pendingAtStart) / sample.ms) * 1000, now);
    const aloneRate = this.alone.value;
    if (aloneRate === undefined) return;
    // The tokens the node evaluated in that time beyond this request's own, as a share of what was pending.
    const extra = (sample.ms * aloneRate) / 1000 - sample.tokens;
    this.shared.observe(Math.min(1, Math.max(0, extra / sample.pendingAtStart)), now);
  }
}
