import type { RoutingStrategy } from "../../src/routing/index.js";
import type { BenchFleet, NodeTarget } from "./fleet.js";
import { startGatewayFor } from "./fleet.js";
import type { WorkloadScale } from "./workloads.js";

const NODES = 3;
const SLOTS = 4;
/** llama-server splits its context between slots; each needs room for a whole conversation. */
const CTX_PER_SLOT = 4096;
/** Real nodes on loopback: the regions only give the gateway its distance prior. */
const REGIONS = ["fra", "ams", "waw"];

/** Smaller than the sim's: three one-thread CPU nodes share two cores with the client and gateway. */
export const LLAMA_SCALE: WorkloadScale = {
  ratePerSec: 4,
  durationMs: 8000,
  conversations: 12,
  conversationWindowMs: 5000,
  systemPrompts: 3,
  systemPromptWords: [300, 450],
  turns: [3, 4],
  maxTokens: 16,
};

type Harness = typeof import("../../test/e2e/llama-harness.js");

async function loadHarness(): Promise<Harness> {
  try {
    return await import("../../test/e2e/llama-harness.js");
  } catch (err) {
    throw new Error(`--llama needs test/e2e/llama-harness.ts (startLlamaFleet): ${(err as Error).message}`);
  }
}

export interface LlamaBench {
  readonly model: string;
  startFleet(policy: RoutingStrategy): Promise<BenchFleet>;
  stop(): Promise<void>;
}

/**
 * Three real llama-servers with the tiny model, started once: restarting them per policy would cost
 * seconds each. Between policies every node is restarted anyway, so no policy inherits another's
 * slot caches.
 */
export async function startLlamaBench(log: (line: string) => void): Promise<LlamaBench> {
  const harness = await loadHarness();
  log("building or finding llama-server and the tiny model (the first build takes minutes)…");
  try {
    await harness.ensureLlamaServerBinary();
    await harness.ensureTinyModel();
  } catch (err) {
    throw new Error(`--llama could not prepare llama-server or the tiny model: ${(err as Error).message}`);
  }
  const fleet = await harness.startLlamaFleet(NODES, { slots: SLOTS, ctxSize: SLOTS * CTX_PER_SLOT });
  const targets: NodeTarget[] = fleet.nodes.map((node, i) => ({
    id: `llama-${REGIONS[i]}`,
    url: node.url,
    region: REGIONS[i]!,
  }));
  let first = true;
  return {
    model: harness.TINY_MODEL_ALIAS,
    async startFleet(policy) {
      if (!first) await Promise.all(fleet.nodes.map((node) => node.restart()));
      first = false;
      const gateway = await startGatewayFor(policy, targets);
      return {
        baseUrl: gateway.url,
        slowNodeId: undefined,
        setSlowdownMs: () => {
          throw new Error("--llama runs workload (b) only");
        },
        close: () => gateway.close(),
      };
    },
    stop: () => fleet.stop(),
  };
}
