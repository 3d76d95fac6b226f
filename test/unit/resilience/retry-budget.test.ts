import { describe, expect, it } from "vitest";
import { RetryBudget } from "../../../src/resilience/index.js";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("RetryBudget", () => {
  it("grants the floor even with no traffic", () => {
    const time = clock();
    const budget = new RetryBudget({ minRetriesPerSecond: 1, windowMs: 5000 }, time.now);
    let granted = 0;
    for (let i = 0; i < 20; i++) if (budget.tryAcquireRetry()) granted += 1;
    expect(granted).toBe(5);
    expect(budget.available()).toBe(0);
  });

  it("holds retries to about the ratio of requests in a fleet-wide storm", () => {
    const time = clock();
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, windowMs: 10_000 }, time.now);
    let retries = 0;
    // 1000 requests over 5 s, each failing and trying up to three more nodes.
    for (let i = 0; i < 1000; i++) {
      budget.recordRequest();
      for (let attempt = 0; attempt < 3; attempt++) if (budget.tryAcquireRetry()) retries += 1;
      time.advance(5);
    }
    expect(retries).toBeGreaterThanOrEqual(195);
    expect(retries).toBeLessThanOrEqual(200);
  });

  it("refills as old buckets leave the window", () => {
    const time = clock();
    const budget = new RetryBudget(
      { ratio: 0.5, minRetriesPerSecond: 0, windowMs: 1000, buckets: 10 },
      time.now,
    );
    for (let i = 0; i < 10; i++) budget.recordRequest();
    let granted = 0;
    while (budget.tryAcquireRetry()) granted += 1;
    expect(granted).toBe(5);
    time.advance(1100);
    expect(budget.tryAcquireRetry()).toBe(false); // the requests left too
    for (let i = 0; i < 4; i++) budget.recordRequest();
    expect(budget.available()).toBe(2);
  });

  it("forgets a whole window after a long idle gap", () => {
    const time = clock();
    const budget = new RetryBudget({ ratio: 1, minRetriesPerSecond: 0, windowMs: 1000 }, time.now);
    for (let i = 0; i < 3; i++) budget.recordRequest();
    expect(budget.tryAcquireRetry()).toBe(true);
    time.advance(3_600_000);
    expect(budget.available()).toBe(0);
  });
});
