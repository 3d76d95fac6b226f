import { describe, expect, it } from "vitest";
import {
  createLatencyPolicy,
  createRandom,
  LATENCY_REASONS,
  type LatencyPolicyOptions,
  type NodeView,
} from "../../../src/routing/index.js";
import { firstCounts, fleet, ids, node, request } from "./fixtures.js";

const noExplore: Partial<LatencyPolicyOptions> = { explorationRate: 0 };

function firstOver(
  runs: number,
  nodes: readonly NodeView[],
  options: Partial<LatencyPolicyOptions> = noExplore,
) {
  const policy = createLatencyPolicy(createRandom(7), options);
  const snapshot = fleet(nodes);
  return (overrides: Parameters<typeof request>[0] = {}) =>
    firstCounts(runs, () => policy.rank(snapshot, request(overrides)).ranked);
}

describe("latency policy", () => {
  it("prefers the near node when otherwise equal, by measured round trip", () => {
    const counts = firstOver(200, [node("far", { rttMs: 90 }), node("near", { rttMs: 5 })])();
    expect(counts.get("near")).toBe(200);
  });

  it("falls back to the great-circle prior when the round trip is not measured", () => {
    const nodes = [
      node("syd", { rttMs: undefined, location: { lat: -33.95, lon: 151.18 } }),
      node("fra", { rttMs: undefined, location: { lat: 50.04, lon: 8.56 } }),
    ];
    const counts = firstOver(100, nodes)({ origin: { lat: 48.86, lon: 2.35 } });
    expect(counts.get("fra")).toBe(100);
  });

  it("prefers the idle node over a queued one", () => {
    const nodes = [
      node("queued", { slotsTotal: 1, inFlight: 1, deferred: 2 }),
      node("idle", { slotsTotal: 1 }),
    ];
    expect(firstOver(200, nodes)().get("idle")).toBe(200);
  });

  it("counts other gateways' requests through slotsBusy", () => {
    const nodes = [node("busy", { slotsTotal: 1, slotsBusy: 1 }), node("free", { slotsTotal: 1 })];
    expect(firstOver(100, nodes)().get("free")).toBe(100);
  });

  it("sinks a node with a high error rate to the bottom", () => {
    const nodes = [node("flaky", { errorRate: 0.6, rttMs: 1 }), node("a"), node("b")];
    const policy = createLatencyPolicy(createRandom(3), noExplore);
    for (let run = 0; run < 100; run++) {
      expect(policy.rank(fleet(nodes), request()).ranked.at(-1)?.id).toBe("flaky");
    }
  });

  it("keeps a long prompt on a fast-prefill node over a slightly nearer slow one", () => {
    const nodes = [node("slow", { rttMs: 5, prefillTokensPerSec: 500 }), node("fast", { rttMs: 40 })];
    expect(firstOver(50, nodes)({ promptTokens: 8000 }).get("fast")).toBe(50);
  });

  it("weighs decode time fully when the client waits for the whole answer", () => {
    const nodes = [node("quick-start", { rttMs: 5, interTokenMs: 40 }), node("fast-decode", { rttMs: 120 })];
    expect(firstOver(20, nodes)({ stream: true, maxTokens: 16 }).get("quick-start")).toBe(20);
    expect(firstOver(20, nodes)({ stream: false, maxTokens: 16 }).get("fast-decode")).toBe(20);
  });

  it("uses power of two choices among near-equals and spreads them by load", () => {
    const nodes = [node("a", { inFlight: 2 }), node("b"), node("c", { inFlight: 1 })];
    const policy = createLatencyPolicy(createRandom(11), noExplore);
    const counts = firstCounts(3000, () => {
      // A short prompt: the busier nodes' slower prefill stays within the near-equal margin.
      const decision = policy.rank(fleet(nodes), request({ promptTokens: 10 }));
      expect(decision.reason).toBe(LATENCY_REASONS.p2c);
      return decision.ranked;
    });
    // b (idle) wins whenever drawn (2/3), c beats a otherwise (1/3), a never.
    expect(counts.get("b")! / 3000).toBeCloseTo(2 / 3, 1);
    expect(counts.get("a")).toBeUndefined();
  });

  describe("prefix affinity", () => {
    const four = [node("n0"), node("n1"), node("n2"), node("n3")];

    it("sends the conversation back to the remembered node", () => {
      const policy = createLatencyPolicy(createRandom(1), noExplore);
      const decision = policy.rank(fleet(four), request({ rememberedNode: "n2", prefixKey: "k" }));
      expect(decision.reason).toBe(LATENCY_REASONS.affinityHit);
      expect(decision.ranked[0]?.id).toBe("n2");
    });

    it("falls back to rendezvous hashing: stable per key, independent of node order, spread across keys", () => {
      const policy = createLatencyPolicy(createRandom(1), noExplore);
      const targets = new Set<string>();
      for (let k = 0; k < 200; k++) {
        const req = request({ prefixKey: `key-${k}` });
        const first = policy.rank(fleet(four), req).ranked[0]?.id;
        expect(policy.rank(fleet([...four].reverse()), req).ranked[0]?.id).toBe(first);
        targets.add(first!);
      }
      expect(targets.size).toBe(4);
    });

    it("moves only the keys of a node that leaves", () => {
      const policy = createLatencyPolicy(createRandom(1), noExplore);
      const without = four.filter((n) => n.id !== "n1");
      for (let k = 0; k < 200; k++) {
        const req = request({ prefixKey: `key-${k}` });
        const before = policy.rank(fleet(four), req).ranked[0]?.id;
        const after = policy.rank(fleet(without), req).ranked[0]?.id;
        if (before !== "n1") expect(after).toBe(before);
      }
    });

    it("loses the bonus on one-slot nodes once a request queues and its load is over (1+ε)× the mean", () => {
      const policy = createLatencyPolicy(createRandom(5), noExplore);
      const loaded = (affinityLoad: number) => [
        node("n0", { inFlight: 1, slotsTotal: 1 }),
        node("n1", { inFlight: 1, slotsTotal: 1 }),
        node("n2", { inFlight: 1, slotsTotal: 1 }),
        node("n3", { inFlight: affinityLoad, slotsTotal: 1 }),
      ];
      const req = request({ rememberedNode: "n3" });
      const within = policy.rank(fleet(loaded(1)), req);
      expect(within.reason).toBe(LATENCY_REASONS.affinityHit);
      expect(within.ranked[0]?.id).toBe("n3");
      for (let run = 0; run < 100; run++) {
        const above = policy.rank(fleet(loaded(2)), req);
        expect(above.reason).toBe(LATENCY_REASONS.affinityOverloaded);
        expect(above.ranked[0]?.id).not.toBe("n3");
      }
    });

    it("keeps the bonus on a node with a free slot, however far above the mean it is", () => {
      const policy = createLatencyPolicy(createRandom(5), noExplore);
      const nodes = [node("n0"), node("n1"), node("n2", { inFlight: 7, slotsTotal: 8 })];
      const decision = policy.rank(fleet(nodes), request({ rememberedNode: "n2", promptTokens: 2000 }));
      expect(decision.reason).toBe(LATENCY_REASONS.affinityHit);
    });

    it("honours a configured ε", () => {
      const full = { slotsTotal: 1 };
      const nodes = [
        node("n0", { inFlight: 1, ...full }),
        node("n1", { inFlight: 1, ...full }),
        node("n2", { inFlight: 3, ...full }),
      ];
      const turn = request({ rememberedNode: "n2" });
      const strict = createLatencyPolicy(createRandom(5), noExplore).rank(fleet(nodes), turn);
      expect(strict.reason).toBe(LATENCY_REASONS.affinityOverloaded);
      const loose = createLatencyPolicy(createRandom(5), { ...noExplore, affinityLoadEpsilon: 1 });
      expect(loose.rank(fleet(nodes), turn).reason).not.toBe(LATENCY_REASONS.affinityOverloaded);
    });

    it("grants a bonus worth the expected cached tokens, so a small saving does not beat a much nearer node", () => {
      const policy = createLatencyPolicy(createRandom(5), noExplore);
      const nodes = [node("near", { rttMs: 5 }), node("remembered", { rttMs: 100 })];
      const small = request({ rememberedNode: "remembered", promptTokens: 100 });
      expect(policy.rank(fleet(nodes), small).ranked[0]?.id).toBe("near");
      const large = request({ rememberedNode: "remembered", promptTokens: 6000, expectedCachedTokens: 5800 });
      expect(policy.rank(fleet(nodes), large).ranked[0]?.id).toBe("remembered");
    });
  });

  describe("exploration", () => {
    const nodes = [
      node("a"),
      node("b"),
      node("c"),
      node("cold", { rttMs: undefined, ttftMs: undefined, location: { lat: -33.95, lon: 151.18 } }),
    ];

    for (const rate of [0.02, 0.1]) {
      it(`sends an unmeasured node first at about the configured rate (${rate})`, () => {
        const policy = createLatencyPolicy(createRandom(99), { explorationRate: rate });
        const runs = 20_000;
        let explored = 0;
        const counts = firstCounts(runs, () => {
          const decision = policy.rank(fleet(nodes), request({ origin: { lat: 50, lon: 8 } }));
          if (decision.reason === LATENCY_REASONS.explore) explored++;
          return decision.ranked;
        });
        expect(explored).toBe(counts.get("cold"));
        expect(explored / runs).toBeGreaterThan(rate * 0.8);
        expect(explored / runs).toBeLessThan(rate * 1.2);
      });
    }

    it("never explores away from the node that holds a conversation's prefix", () => {
      const policy = createLatencyPolicy(createRandom(5), { explorationRate: 1 });
      const turn = request({ origin: { lat: 50, lon: 8 }, rememberedNode: "b", prefixKey: "conversation" });
      for (let i = 0; i < 100; i++) {
        const decision = policy.rank(fleet(nodes), turn);
        expect(decision.ranked[0]?.id).toBe("b");
        expect(decision.reason).toBe(LATENCY_REASONS.affinityHit);
      }
    });
  });

  describe("large fleets", () => {
    const big = Array.from({ length: 500 }, (_, i) => node(`n${i}`, { rttMs: 60 + (i % 10) }));

    it("finds the clearly best node through the snapshot's leaders", () => {
      const nodes = big.map((n) => (n.id === "n321" ? node("n321", { rttMs: 1 }) : n));
      expect(firstOver(50, nodes)().get("n321")).toBe(50);
    });

    it("finds the remembered node without scoring the whole fleet", () => {
      const policy = createLatencyPolicy(createRandom(2), noExplore);
      const decision = policy.rank(fleet(big), request({ rememberedNode: "n444" }));
      expect(decision.ranked[0]?.id).toBe("n444");
      expect(new Set(ids(decision.ranked)).size).toBe(500);
    });
  });

  it("rejects nonsensical options", () => {
    expect(() => createLatencyPolicy(createRandom(1), { explorationRate: 2 })).toThrow(RangeError);
    expect(() => createLatencyPolicy(createRandom(1), { affinityLoadEpsilon: -1 })).toThrow(
      /affinityLoadEpsilon/,
    );
  });
});
