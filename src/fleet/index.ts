export type { HealthThresholds, ProbeVerdict } from "./health.js";
export { type CapacityReading, NodeEntry, type RequestObservation } from "./node-entry.js";
export { type ProbeResponse, Prober, type ProberOptions, type ProbeTransport } from "./prober.js";
export { FleetRegistry, type ModelListing, type RegistryOptions } from "./registry.js";
export type { HealthState, NodeRecord } from "./types.js";
