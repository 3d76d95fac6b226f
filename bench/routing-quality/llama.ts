import type { RoutingStrategy } from "../../src/routing/index.js";
import type { BenchFleet, NodeTarget } from "./fleet.js";
import { startGatewayFor } from "./fleet.js";
import type { WorkloadScale } from "./workloads.js";

const NODES = 3;
const SLOTS = 4;
export const LLAMA_FLEET_SLOTS = NODES * SLOTS;
/** llama-server splits its context between slots; each needs room for a whole conversation. */
const CTX_PER_SLOT = 4096;
/** Real nodes on loopback: the regions only give the gateway its distance prior. */
const REGIONS = ["fra", "ams", "waw"];

/**
 * Contended (issue 17): 9 lanes of users, three quarters of the fleet's 12 slots, each with two
 * conversations in turn; every conversation opens with a document of its own (~1,000 tokens, a cold
 * prefill of 200-400 ms on a quiet core with the bench model) under one of two short system prompts,
 * and asks 7-8 questions with little pause. With 8 lanes a policy that answers faster kept fewer than
 * half the slots busy. 18 conversations × 7-8 turns ≥ 100 requests per run. The
 * timeout is generous because three one-thread nodes share two loaded cores with the client and gateway:
 * what is compared is time to first token, not whether it fits a budget.
 */
export const LLAMA_SCALE: WorkloadScale = {
  ratePerSec: 4,
  durationMs: 8000,
  conversations: 18,
  conversationWindowMs: 1500,
  systemPrompts: 2,
  systemPromptWords: [30, 50],
  turns: [7, 8],
  maxTokens: 16,
  thinkMs: [20, 60, 300],
  ownContextWords: [400, 480],
  lanes: 9,
  ttftTimeoutMs: 20_000,
};

/** Routing alone is measured: no hedge doubles a prefill, and a node's first token may take its time. */
const LLAMA_RESILIENCE = { ttft_timeout_ms: 19_000, hedging: false };

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
    await harness.ensureTinyModel(undefined, "bench");
  } catch (err) {
    throw new Error(`--llama could not prepare llama-server or the tiny model: ${(err as Error).message}`);
  }
  const fleet = await harness.startLlamaFleet(NODES, {
    slots: SLOTS,
    ctxSize: SLOTS * CTX_PER_SLOT,
    model: await harness.ensureTinyModel(undefined, "bench"),
  });
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
      const gateway = await startGatewayFor(policy, targets, LLAMA_RESILIENCE);
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
