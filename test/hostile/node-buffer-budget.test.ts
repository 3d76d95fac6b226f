import { afterEach, describe, expect, it } from "vitest";
import { BufferBudget } from "../../src/upstream/buffer-budget.js";
import { postJson, startFleet, type TestFleet } from "../support/fleet.js";

/**
 * Issue 15, finding 6 (memory): eight non-streamed requests to a node answering 1 GiB took RSS from
 * 187 MB to 607 MB, since every call buffered up to `max_response_bytes` of its answer on its own.
 * `resilience.buffered_bytes_budget` now bounds what all buffered answers hold at once: when a
 * response would overflow it, the largest are failed as their node's fault (and fail over), so the
 * gateway's buffers stay near the budget however many calls a hostile node answers at once.
 */
const MiB = 1024 * 1024;
const BUDGET = 16 * MiB;
const CALLS = 8;

let fleet: TestFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/** The peak of Buffer memory (`arrayBuffers`) above its level at the start, while `work` runs. */
async function peakBufferGrowth(work: () => Promise<unknown>): Promise<number> {
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  }, 2);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return peak - baseline;
}

describe("a node answering huge bodies to many calls at once", () => {
  it("holds the gateway's buffered bytes near the budget; the calls fail over and succeed", async () => {
    fleet = await startFleet([{ faults: { hugeBodyBytes: 1024 * MiB } }, {}], {
      config: {
        routing: { strategy: "round-robin", affinity: false },
        resilience: {
          max_response_bytes: 256 * MiB,
          buffered_bytes_budget: BUDGET,
          retry_budget_min_per_second: 100,
          breaker: { volume_threshold: 1000 },
        },
      },
    });
    const { baseURL } = fleet;
    const statuses: number[] = [];
    const growth = await peakBufferGrowth(() =>
      Promise.all(
        Array.from({ length: CALLS }, async (_, i) => {
          const body = { model: "tiny", messages: [{ role: "user", content: `Call ${i}` }], max_tokens: 3 };
          statuses.push((await postJson(`${baseURL}/chat/completions`, body)).status);
        }),
      ),
    );
    expect(statuses).toEqual(Array(CALLS).fill(200));
    expect(fleet.sims[0]!.stats().completionRequests).toBeGreaterThan(0);
    // Eight calls buffering up to max_response_bytes each would be 2 GiB; garbage not yet collected
    // comes on top of the budget, so the bound is loose, but an order of magnitude below that.
    expect(growth, `Buffer memory grew by ${(growth / MiB).toFixed(0)} MiB`).toBeLessThan(160 * MiB);
  });

  it("evicts the largest holders, never a small answer for a larger one's sake", () => {
    const budget = new BufferBudget(100);
    const evicted: string[] = [];
    const lease = (name: string) => budget.open(() => evicted.push(name));
    const [big, medium, small] = [lease("big"), lease("medium"), lease("small")];
    expect(big.grow(60)).toBe(true);
    expect(medium.grow(30)).toBe(true);
    expect(small.grow(5)).toBe(true);
    // The small answer's next chunk does not fit: the largest goes, the small one carries on.
    expect(small.grow(10)).toBe(true);
    expect(evicted).toEqual(["big"]);
    expect(big.grow(1)).toBe(false);
    // A holder that would itself be the largest is the one refused, and loses its share.
    expect(medium.grow(80)).toBe(false);
    expect(evicted).toEqual(["big"]);
    expect(small.grow(85)).toBe(true);
    small.release();
    small.release();
    expect(lease("next").grow(100)).toBe(true);
  });
});
