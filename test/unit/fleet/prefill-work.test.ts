import { describe, expect, it } from "vitest";
import { PrefillWork } from "../../../src/fleet/prefill-work.js";

const HALF_LIFE_MS = 30_000;

/** A node evaluating `rate` tokens/s in all; `sharing` of the work pending beside a prompt delays it. */
function promptMs(tokens: number, pendingAtStart: number, rate: number, sharing: number): number {
  return ((tokens + sharing * pendingAtStart) / rate) * 1000;
}

function learn(rate: number, sharing: number): PrefillWork {
  const work = new PrefillWork(HALF_LIFE_MS);
  let now = 0;
  for (let i = 0; i < 20; i++) {
    now += 500;
    work.observe({ tokens: 800, ms: promptMs(800, 0, rate, sharing), pendingAtStart: 0 }, now);
    now += 500;
    work.observe({ tokens: 200, ms: promptMs(200, 1600, rate, sharing), pendingAtStart: 1600 }, now);
  }
  return work;
}

describe("prompt work on a node", () => {
  it("counts the prompts sent and not yet answered, and forgets each at its first token", () => {
    const work = new PrefillWork(HALF_LIFE_MS);
    expect(work.begin(1000)).toBe(0);
    expect(work.begin(300)).toBe(1000);
    expect([work.tokens, work.requests]).toEqual([1300, 2]);
    work.done(1000);
    expect([work.tokens, work.requests]).toEqual([300, 1]);
  });

  it("learns that a node evaluating prompts in one batch delays a short prompt by the long ones", () => {
    const batched = learn(4000, 1);
    expect(batched.tokensPerSec).toBeCloseTo(4000, -1);
    expect(batched.sharing).toBeCloseTo(1, 1);
  });

  it("learns that a node evaluating prompts in parallel does not", () => {
    const parallel = learn(4000, 0);
    expect(parallel.tokensPerSec).toBeCloseTo(4000, -1);
    expect(parallel.sharing).toBeLessThan(0.05);
  });

  it("assumes one batch, as llama-server runs, until it has seen otherwise", () => {
    const work = new PrefillWork(HALF_LIFE_MS);
    expect(work.sharing).toBe(1);
    work.observe({ tokens: 500, ms: 250, pendingAtStart: 1000 }, 1);
    // No request ran alone yet: the rate is read from the shared one, corrected by the prior.
    expect(work.tokensPerSec).toBeCloseTo(6000, -1);
  });
});
