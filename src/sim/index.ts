/** A simulated llama.cpp `llama-server` node, faithful on the wire, for tests, demos and benchmarks. */
export { parseSimArgs, SIM_HELP } from "./args.js";
export { runSimCommand } from "./cli.js";
export type { SimStats } from "./context.js";
export { type FaultConfig, NO_FAULTS, type ResolvedOptions, type SimNodeOptions } from "./options.js";
export { type SimNode, startSimNode } from "./server.js";
