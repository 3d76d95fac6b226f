export { AffinityMemory } from "./affinity.js";
export { type HeaderReader, LOCALITY_HEADERS, type LocalityPolicy, type ResidencyRule } from "./locality.js";
export { Gateway, type GatewayDeps, type GatewaySettings, type IncomingCall } from "./pipeline.js";
export type { GatewayReply, PlainReply, ReplyStream } from "./reply.js";
export { errorReply, jsonReply } from "./reply.js";
