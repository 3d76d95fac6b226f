import type { FleetSnapshot, NodeView, RequestFeatures } from "../../../src/routing/index.js";

/** A measured, idle node with one model; override what a test is about. */
export function node(id: string, overrides: Partial<NodeView> = {}): NodeView {
  return {
    id,
    models: ["m"],
    region: "fra",
    location: { lat: 50.04, lon: 8.56 },
    inFlight: 0,
    slotsTotal: 4,
    slotsBusy: 0,
    deferred: 0,
    ttftMs: 200,
    interTokenMs: 20,
    prefillTokensPerSec: 2000,
    rttMs: 10,
    errorRate: 0,
    ...overrides,
  };
}

export function fleet(nodes: readonly NodeView[], now = 1_000): FleetSnapshot {
  return { nodes, now };
}

export function request(overrides: Partial<RequestFeatures> = {}): RequestFeatures {
  return {
    model: "m",
    promptTokens: 1000,
    maxTokens: 256,
    stream: true,
    prefixKey: undefined,
    rememberedNode: undefined,
    origin: undefined,
    allowedRegions: undefined,
    ...overrides,
  };
}

export function ids(nodes: readonly NodeView[]): string[] {
  return nodes.map((n) => n.id);
}

/** How often each node id comes first over `runs` decisions. */
export function firstCounts(runs: number, decide: (run: number) => readonly NodeView[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let run = 0; run < runs; run++) {
    const first = decide(run)[0];
    if (first !== undefined) counts.set(first.id, (counts.get(first.id) ?? 0) + 1);
  }
  return counts;
}
