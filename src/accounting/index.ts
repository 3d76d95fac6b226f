export { estimateChatTokens, estimateTokens } from "./estimate.js";
export {
  bearerToken,
  type ConfiguredKey,
  type KeyGrant,
  type KeyInfo,
  type KeyLimits,
  KeyRing,
  type KeyRingOptions,
  OPEN_PRINCIPAL,
  type Principal,
  sha256Hex,
} from "./keys.js";
