export { AffinityMemory } from "./affinity.js";
export type { IncomingCall } from "./call.js";
export { type HeaderReader, LOCALITY_HEADERS, type LocalityPolicy, type ResidencyRule } from "./locality.js";
export { fleetReading, observeCalls } from "./observers.js";
export type { AttemptReport, CallOutcome, CallUsage, OutcomeSubscriber } from "./outcome.js";
export { Gateway, type GatewayDeps, type GatewaySettings } from "./pipeline.js";
export type { GatewayReply, PlainReply, ReplyStream } from "./reply.js";
export { errorReply, jsonReply } from "./reply.js";
