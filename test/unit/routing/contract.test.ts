import { createRoutingPolicy, ROUTING_STRATEGIES } from "../../../src/routing/index.js";
import { runPolicyContract } from "./policy-contract.case.js";

for (const strategy of ROUTING_STRATEGIES) {
  runPolicyContract(strategy, (random) => createRoutingPolicy(strategy, { random }));
}
runPolicyContract("latency (always sampling)", (random) =>
  createRoutingPolicy("latency", { random, latency: { sampleThreshold: 2, explorationRate: 0.3 } }),
);
