export {
  type Change,
  type Heartbeat,
  heartbeatSchema,
  NodeDirectory,
  type Registration,
  registrationSchema,
  type StoredNode,
} from "./directory.js";
export type { HealthThresholds, ProbeVerdict } from "./health.js";
export { parseMetrics, parseSlots } from "./llama-probes.js";
export { type CapacityReading, NodeEntry, type RequestObservation } from "./node-entry.js";
export type { PrefillSample } from "./prefill-work.js";
export { type ProbeResponse, Prober, type ProberOptions, type ProbeTransport } from "./prober.js";
export { RegisteredFleet, type RegisteredFleetOptions } from "./registered-fleet.js";
export { FleetRegistry, type ModelListing, type RegistryOptions } from "./registry.js";
export type { Admission, HealthState, NodeRecord } from "./types.js";
export { type NodeProps, parseNodeProps, type Verdict, verifyNode } from "./verifier.js";
