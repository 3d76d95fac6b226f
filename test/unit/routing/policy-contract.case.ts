import { describe, expect, it } from "vitest";
import {
  createRandom,
  type NodeView,
  type RandomSource,
  type RequestFeatures,
  type RoutingPolicy,
} from "../../../src/routing/index.js";
import { fleet, ids, node, request } from "./fixtures.js";

export type PolicyFactory = (random: RandomSource) => RoutingPolicy;

/** Mixed models and regions, including a node with no region that residency must refuse. */
function mixedFleet(size: number): NodeView[] {
  const regions = ["fra", "iad", "sin", undefined];
  return Array.from({ length: size }, (_, i) =>
    node(`n${i}`, {
      models: i % 3 === 0 ? ["m", "other"] : i % 3 === 1 ? ["m"] : ["other"],
      region: regions[i % regions.length],
      inFlight: i % 5,
      rttMs: i % 7 === 0 ? undefined : 5 + (i % 11) * 10,
      ttftMs: i % 13 === 0 ? undefined : 150 + (i % 4) * 50,
      errorRate: i % 17 === 0 ? 0.3 : 0,
    }),
  );
}

function expectedIds(nodes: readonly NodeView[], req: RequestFeatures): string[] {
  return nodes
    .filter((n) => n.models.includes(req.model))
    .filter(
      (n) => req.allowedRegions === undefined || (n.region !== undefined && req.allowedRegions.has(n.region)),
    )
    .map((n) => n.id)
    .sort();
}

/** The guarantees every routing policy gives, whatever its ordering (after hono's router/common.case). */
export function runPolicyContract(name: string, create: PolicyFactory): void {
  describe(`${name}: routing policy contract`, () => {
    const requests: RequestFeatures[] = [
      request(),
      request({ model: "other" }),
      request({ allowedRegions: new Set(["fra", "sin"]) }),
      request({ prefixKey: "conversation-1", rememberedNode: "n3", origin: { lat: 1.3, lon: 103.8 } }),
    ];

    for (const size of [7, 40, 300]) {
      it(`ranks exactly the eligible nodes, each once (${size} nodes)`, () => {
        const policy = create(createRandom(size));
        const snapshot = fleet(mixedFleet(size));
        for (let run = 0; run < 50; run++) {
          const req = requests[run % requests.length]!;
          const { ranked, unavailable } = policy.rank(snapshot, req);
          expect(ids(ranked).sort()).toEqual(expectedIds(snapshot.nodes, req));
          expect(unavailable).toBeUndefined();
        }
      });
    }

    it("respects residency: refuses nodes outside the allowed regions and nodes without a region", () => {
      const policy = create(createRandom(1));
      const snapshot = fleet([
        node("a", { region: "fra" }),
        node("b", { region: undefined }),
        node("c", { region: "iad" }),
      ]);
      for (let run = 0; run < 20; run++) {
        expect(ids(policy.rank(snapshot, request({ allowedRegions: new Set(["fra"]) })).ranked)).toEqual([
          "a",
        ]);
      }
    });

    it("tells a model nobody serves from a model served only outside the allowed regions", () => {
      const policy = create(createRandom(1));
      const snapshot = fleet([node("a", { region: "iad" })]);
      expect(policy.rank(snapshot, request({ model: "nope" }))).toMatchObject({
        ranked: [],
        unavailable: "model-not-served",
      });
      expect(policy.rank(snapshot, request({ allowedRegions: new Set(["fra"]) }))).toMatchObject({
        ranked: [],
        unavailable: "region-not-allowed",
      });
    });

    it("handles an empty fleet and a one-node fleet", () => {
      const policy = create(createRandom(1));
      expect(policy.rank(fleet([]), request())).toMatchObject({
        ranked: [],
        unavailable: "model-not-served",
      });
      const only = node("only");
      const decision = policy.rank(fleet([only]), request({ prefixKey: "k" }));
      expect(decision.ranked).toEqual([only]);
      expect(decision.reason).toMatch(/^[a-z-]+(;[a-z0-9=]+)?$/);
    });

    it("replays exactly under the same seed", () => {
      const snapshot = fleet(mixedFleet(120));
      const run = () => {
        const policy = create(createRandom(42));
        return Array.from({ length: 60 }, (_, i) => {
          const decision = policy.rank(snapshot, requests[i % requests.length]!);
          return `${decision.reason}:${ids(decision.ranked).join(",")}`;
        });
      };
      expect(run()).toEqual(run());
    });
  });
}
