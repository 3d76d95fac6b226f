import { describe, expect, it } from "vitest";
import { findEligible } from "../../../src/routing/index.js";
import { fleet, ids, node, request } from "./fixtures.js";

describe("findEligible", () => {
  it("returns the snapshot's own array when every node is eligible", () => {
    const snapshot = fleet([node("a"), node("b")]);
    expect(findEligible(snapshot, request()).nodes).toBe(snapshot.nodes);
  });

  it("remembers the answer per snapshot for the same model and region set", () => {
    const snapshot = fleet([node("a"), node("b", { models: ["x"] })]);
    const regions = new Set(["fra"]);
    const first = findEligible(snapshot, request({ allowedRegions: regions }));
    expect(findEligible(snapshot, request({ allowedRegions: regions }))).toBe(first);
    expect(ids(findEligible(snapshot, request({ model: "x" })).nodes)).toEqual(["b"]);
    expect(ids(findEligible(snapshot, request({ allowedRegions: regions })).nodes)).toEqual(["a"]);
  });

  it("refuses everything for an empty region set", () => {
    expect(findEligible(fleet([node("a")]), request({ allowedRegions: new Set() })).unavailable).toBe(
      "region-not-allowed",
    );
  });
});
