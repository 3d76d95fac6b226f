import { describe, expect, it } from "vitest";
import { createRandom, createRoutingPolicy } from "../../../src/routing/index.js";
import { firstCounts, fleet, ids, node, request } from "./fixtures.js";

describe("round-robin", () => {
  it("cycles through the eligible nodes evenly", () => {
    const policy = createRoutingPolicy("round-robin", { random: createRandom(1) });
    const snapshot = fleet([node("a"), node("b"), node("c")]);
    const order = Array.from({ length: 6 }, () => policy.rank(snapshot, request()).ranked[0]?.id);
    expect(order).toEqual(["a", "b", "c", "a", "b", "c"]);
    expect(ids(policy.rank(snapshot, request()).ranked)).toEqual(["a", "b", "c"]);
    expect(ids(policy.rank(snapshot, request()).ranked)).toEqual(["b", "c", "a"]);
  });

  it("keeps one cursor per model", () => {
    const policy = createRoutingPolicy("round-robin", { random: createRandom(1) });
    const snapshot = fleet([node("a", { models: ["m", "x"] }), node("b", { models: ["m", "x"] })]);
    const picks = [request(), request({ model: "x" }), request(), request({ model: "x" })].map(
      (req) => policy.rank(snapshot, req).ranked[0]?.id,
    );
    expect(picks).toEqual(["a", "a", "b", "b"]);
  });
});

describe("least-loaded", () => {
  it("picks the lowest (inFlight + deferred) / slots", () => {
    const policy = createRoutingPolicy("least-loaded", { random: createRandom(1) });
    const snapshot = fleet([
      node("half", { slotsTotal: 4, inFlight: 2 }),
      node("quarter", { slotsTotal: 8, inFlight: 1, deferred: 1 }),
      node("full", { slotsTotal: 1, inFlight: 1 }),
    ]);
    expect(ids(policy.rank(snapshot, request()).ranked)).toEqual(["quarter", "half", "full"]);
  });

  it("breaks ties at random", () => {
    const policy = createRoutingPolicy("least-loaded", { random: createRandom(1) });
    const snapshot = fleet([node("a"), node("b"), node("busy", { inFlight: 3 })]);
    const counts = firstCounts(2000, () => policy.rank(snapshot, request()).ranked);
    expect(counts.get("a")! / 2000).toBeCloseTo(0.5, 1);
    expect(counts.get("busy")).toBeUndefined();
  });
});

describe("random", () => {
  it("puts each node first about equally often", () => {
    const policy = createRoutingPolicy("random", { random: createRandom(3) });
    const snapshot = fleet(Array.from({ length: 4 }, (_, i) => node(`n${i}`)));
    const counts = firstCounts(8000, () => policy.rank(snapshot, request()).ranked);
    for (const count of counts.values()) expect(count / 8000).toBeCloseTo(0.25, 1);
  });
});
