import { describe, expect, it } from "vitest";
import { percentiles, Ring } from "../../../src/dashboard/ring.js";
import { OTHER, UsageTally } from "../../../src/dashboard/usage.js";
import { SecondWindow } from "../../../src/dashboard/window.js";

describe("SecondWindow", () => {
  it("sums each field over the seconds asked for, within its span", () => {
    const window = new SecondWindow(["a", "b"], 10);
    window.add(100, "a");
    window.add(100, "a", 2);
    window.add(103, "a");
    window.add(103, "b", 5);
    expect(window.sum(103, "a", 10)).toBe(4);
    expect(window.sum(103, "a", 1)).toBe(1);
    expect(window.sum(103, "b", 10)).toBe(5);
    expect(window.sum(200, "a", 10)).toBe(0);
  });

  it("forgets a second once it leaves the span, even where no later second reused its slot", () => {
    const window = new SecondWindow(["n"], 10);
    window.add(100, "n", 7);
    expect(window.sum(109, "n", 10)).toBe(7);
    expect(window.sum(110, "n", 10)).toBe(0);
    // Second 110 lands in 100's slot: the old count must not leak into it.
    window.add(110, "n");
    expect(window.sum(110, "n", 10)).toBe(1);
  });

  it("groups the span into steps, oldest first", () => {
    const window = new SecondWindow(["n"], 12);
    for (const second of [100, 101, 104, 110, 111]) window.add(second, "n");
    expect(window.series(111, "n", 4)).toEqual([2, 1, 2]);
  });
});

describe("Ring", () => {
  it("keeps the last `capacity` items, newest first", () => {
    const ring = new Ring<number>(3);
    expect(ring.newest()).toEqual([]);
    for (const n of [1, 2, 3, 4, 5]) ring.push(n);
    expect(ring.newest()).toEqual([5, 4, 3]);
  });

  it("gives nearest-rank percentiles", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(values, [0.5, 0.95, 1])).toEqual([50, 95, 100]);
    expect(percentiles([7], [0.5, 0.95])).toEqual([7, 7]);
    expect(percentiles([], [0.5])).toEqual([undefined]);
  });
});

describe("UsageTally", () => {
  const one = { requests: 1, errors: 0, promptTokens: 10, completionTokens: 5 };

  it("adds up per name and lists the heaviest first", () => {
    const tally = new UsageTally(10);
    tally.add("a", one);
    tally.add("b", one);
    tally.add("b", { ...one, errors: 1 });
    expect(tally.top(5)).toEqual([
      { name: "b", requests: 2, errors: 1, promptTokens: 20, completionTokens: 10 },
      { name: "a", requests: 1, errors: 0, promptTokens: 10, completionTokens: 5 },
    ]);
  });

  it("puts names past its limit in one shared row, so it never grows with them", () => {
    const tally = new UsageTally(3);
    for (let i = 0; i < 1000; i++) tally.add(`key-${i}`, one);
    tally.add("key-1", one);
    const rows = tally.top(Number.POSITIVE_INFINITY);
    expect(rows).toHaveLength(4);
    expect(rows.find((row) => row.name === OTHER)?.requests).toBe(997);
    expect(rows.find((row) => row.name === "key-1")?.requests).toBe(2);
  });
});
