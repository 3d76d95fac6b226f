export {
  type AddressClass,
  BlockedAddressError,
  checkNodeUrl,
  classifyAddress,
  type GuardPolicy,
  guardedLookup,
  type ResolvedAddress,
  type Resolver,
  systemResolver,
  type UrlCheck,
} from "./address-guard.js";
export {
  classifyTransportError,
  ERROR_BODY_LIMIT_BYTES,
  fetchWhole,
  headerText,
  NodeFault,
  readBody,
  sendToNode,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamTarget,
  type WholeResponse,
} from "./dispatch.js";
export { type PoolOptions, UpstreamPools } from "./pools.js";
export { createProbeTransport } from "./probe-transport.js";
export { type FramingLimits, SseFramer, SseOverflow } from "./sse-framer.js";
export { SseObserver } from "./sse-observer.js";
