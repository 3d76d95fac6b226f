import { describe, expect, it } from "vitest";
import {
  createLatencyPolicy,
  createRandom,
  LATENCY_REASONS,
  type LatencyPolicyOptions,
  type NodeView,
} from "../../../src/routing/index.js";
import { fleet, node, request } from "./fixtures.js";

const noExplore: Partial<LatencyPolicyOptions> = { explorationRate: 0 };
const NOW = 100_000;

/** A later turn of a conversation on `remembered`: 2,000 prompt tokens, 1,900 of them in its cache. */
const laterTurn = request({
  rememberedNode: "remembered",
  rememberedConversation: true,
  promptTokens: 2000,
  expectedCachedTokens: 1900,
});

function rank(nodes: readonly NodeView[], features = laterTurn, options = noExplore) {
  return createLatencyPolicy(createRandom(3), options).rank(fleet(nodes, NOW), features);
}

describe("affinity decided by predicted time", () => {
  // Prefill runs at 2,000 tokens/s in the fixtures: a full prefill elsewhere costs 1,000 ms.
  it("waits for a busy affinity node when the wait is shorter than a full prefill elsewhere", () => {
    const busy = node("remembered", { inFlight: 4, slotsTotal: 4, serviceMs: 800 });
    const decision = rank([busy, node("idle-a"), node("idle-b")]);
    expect(decision.reason).toBe(LATENCY_REASONS.affinityHit);
    expect(decision.ranked[0]?.id).toBe("remembered");
  });

  it("goes elsewhere when the wait on the affinity node is longer than a full prefill", () => {
    const slow = node("remembered", { inFlight: 6, slotsTotal: 4, serviceMs: 4000 });
    const decision = rank([slow, node("idle-a"), node("idle-b")]);
    expect(decision.ranked[0]?.id).not.toBe("remembered");
    expect(decision.reason).toBe(LATENCY_REASONS.affinitySlower);
  });

  it("keeps affinity at low load however far above the fleet's mean the node is", () => {
    // Two requests queued on a 4-slot node while the rest of the fleet is idle: no hotspot.
    const queued = node("remembered", { inFlight: 6, slotsTotal: 4, serviceMs: 600 });
    expect(rank([queued, node("idle-a"), node("idle-b")]).reason).toBe(LATENCY_REASONS.affinityHit);
  });

  it("guards a real hotspot: a queue of a whole round of slots, far above the fleet's load", () => {
    const hot = node("remembered", { inFlight: 9, slotsTotal: 4, serviceMs: 100 });
    const decision = rank([hot, node("idle-a"), node("idle-b")]);
    expect(decision.reason).toBe(LATENCY_REASONS.affinityOverloaded);
    expect(decision.ranked[0]?.id).not.toBe("remembered");
    // The same queue is no hotspot when every node is as loaded: the wait is the same everywhere.
    const even = ["remembered", "a", "b"].map((id) =>
      node(id, { inFlight: 9, slotsTotal: 4, serviceMs: 100 }),
    );
    expect(rank(even).reason).toBe(LATENCY_REASONS.affinityHit);
  });
});

describe("fresh occupancy", () => {
  const turn = request({ promptTokens: 200 });
  const nodes = (probedAgoMs: number) => [
    node("near", { rttMs: 5, foreignLoad: 8, probedAt: NOW - probedAgoMs, serviceMs: 500 }),
    node("far", { rttMs: 60 }),
  ];

  it("believes a fresh probe that saw other gateways' requests filling a node", () => {
    expect(rank(nodes(0), turn).ranked[0]?.id).toBe("far");
  });

  it("lets the reading fade with its age, so a node that has freed its slots is used again", () => {
    expect(rank(nodes(10_000), turn).ranked[0]?.id).toBe("near");
  });

  it("counts this gateway's own requests live, however old the probe", () => {
    const own = [
      node("near", { rttMs: 5, inFlight: 8, probedAt: NOW - 60_000, serviceMs: 500 }),
      node("far", { rttMs: 60 }),
    ];
    expect(rank(own, turn).ranked[0]?.id).toBe("far");
  });
});

describe("slots sharing a node's compute", () => {
  it("sends a new conversation to the node running fewer requests, though both have free slots", () => {
    const opening = request({ promptTokens: 1000 });
    const busier = node("busier", { inFlight: 3, rttMs: 5 });
    const quieter = node("quieter", { inFlight: 1, rttMs: 5 });
    expect(rank([busier, quieter], opening).ranked[0]?.id).toBe("quieter");
    expect(rank([busier, quieter], opening, { ...noExplore, slotContention: 0 }).reason).toBe(
      LATENCY_REASONS.p2c,
    );
  });
});

describe("prompts pending in a node's batch", () => {
  const opening = request({ promptTokens: 1000 });

  it("sends a new conversation away from a node still evaluating a long prompt, though its slots are free", () => {
    const evaluating = node("evaluating", { rttMs: 5, inFlight: 1, pendingPrefillTokens: 3000 });
    const decoding = node("decoding", { rttMs: 5, inFlight: 2, pendingPrefillTokens: 0 });
    expect(rank([evaluating, decoding], opening).ranked[0]?.id).toBe("decoding");
  });

  it("keeps a conversation on its node when that node's pending work costs less than a prefill elsewhere", () => {
    const remembered = node("remembered", { inFlight: 1, pendingPrefillTokens: 500 });
    expect(rank([remembered, node("idle")]).reason).toBe(LATENCY_REASONS.affinityHit);
  });

  it("moves it when the pending work outweighs the cache it would reuse", () => {
    const remembered = node("remembered", { inFlight: 3, pendingPrefillTokens: 6000 });
    const decision = rank([remembered, node("idle")]);
    expect(decision.ranked[0]?.id).toBe("idle");
    expect(decision.reason).toBe(LATENCY_REASONS.affinitySlower);
  });

  it("counts the wait a cold prompt imposes on the first tokens already due on its node", () => {
    // Two short turns are about to get their first token on "waiting"; "decoding" is as busy but past that.
    const waiting = node("waiting", {
      rttMs: 5,
      inFlight: 2,
      prefillingRequests: 2,
      pendingPrefillTokens: 100,
    });
    const decoding = node("decoding", { rttMs: 60, inFlight: 2, prefillingRequests: 0 });
    expect(rank([waiting, decoding], opening).ranked[0]?.id).toBe("decoding");
    // Counting only its own time, the opening would go where it delays both of them.
    expect(rank([waiting, decoding], opening, { ...noExplore, externalityWeight: 0 }).ranked[0]?.id).toBe(
      "waiting",
    );
  });

  it("ignores pending work on a node that learned it evaluates prompts in parallel", () => {
    const parallel = { rttMs: 5, inFlight: 1, pendingPrefillTokens: 3000, prefillSharing: 0 };
    const decision = rank([node("parallel", parallel), node("idle", { rttMs: 5 })], opening, {
      ...noExplore,
      slotContention: 0,
    });
    expect(decision.reason).toBe(LATENCY_REASONS.p2c);
  });
});

describe("priors for unmeasured nodes", () => {
  it("expects a node that has not answered yet to be like the measured ones, not like a slow guess", () => {
    // The configured prior (1,000 tokens/s) would make the new node look 10x slower than its peers.
    const measured = { prefillTokensPerSec: 10_000, ttftMs: 100, interTokenMs: 5, rttMs: 5 };
    const busy = node("busy", { ...measured, inFlight: 2, pendingPrefillTokens: 2000 });
    const fresh = node("fresh", {
      rttMs: 5,
      ttftMs: undefined,
      interTokenMs: undefined,
      prefillTokensPerSec: undefined,
    });
    const opening = request({ promptTokens: 1000, maxTokens: 16 });
    expect(rank([busy, fresh], opening).ranked[0]?.id).toBe("fresh");
  });
});

describe("eviction cost", () => {
  const opening = request({ promptTokens: 2000 });

  it("sends a new conversation where it evicts no recent conversation from its slot", () => {
    const full = node("full", { rttMs: 5, evictionRisk: 1 });
    const roomy = node("roomy", { rttMs: 40, evictionRisk: 0 });
    expect(rank([full, roomy], opening).ranked[0]?.id).toBe("roomy");
  });

  it("sends it where the slot to be reused holds a conversation long silent, not one likely back soon", () => {
    const hot = node("hot", { rttMs: 5, evictionRisk: 0.9 });
    const stale = node("stale", { rttMs: 40, evictionRisk: 0.02 });
    expect(rank([hot, stale], opening).ranked[0]?.id).toBe("stale");
  });

  it("charges nothing to a conversation coming back to its own slot", () => {
    const own = node("remembered", { rttMs: 40, evictionRisk: 1 });
    const decision = rank([own, node("near", { rttMs: 5 })]);
    expect(decision.reason).toBe(LATENCY_REASONS.affinityHit);
  });

  it("charges a conversation that only shares a system prompt with the node's conversations", () => {
    const sharing = request({
      rememberedNode: "remembered",
      rememberedConversation: false,
      promptTokens: 2000,
      expectedCachedTokens: 300,
    });
    const full = node("remembered", { rttMs: 5, evictionRisk: 1 });
    expect(rank([full, node("roomy", { rttMs: 5 })], sharing).ranked[0]?.id).toBe("roomy");
  });
});

describe("one policy over a long-lived fleet", () => {
  it("judges a hotspot by the fleet's load now, not as it was when the healthy set last changed", () => {
    // A registry hands out the same array of live node views for as long as the healthy set holds.
    const views = ["remembered", "a", "b"].map((id) => ({ ...node(id, { slotsTotal: 4, serviceMs: 100 }) }));
    const policy = createLatencyPolicy(createRandom(3), noExplore);
    expect(policy.rank(fleet(views, NOW), laterTurn).reason).toBe(LATENCY_REASONS.affinityHit);
    for (const view of views) view.inFlight = 9;
    // Every node is as loaded: the wait is the same everywhere, so there is no hotspot to avoid.
    expect(policy.rank(fleet(views, NOW + 250), laterTurn).reason).toBe(LATENCY_REASONS.affinityHit);
  });
});
