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
export { LEDGER_DIMENSIONS, type LedgerDimension, UsageLedger, type UsageRow } from "./ledger.js";
export { formatDuration } from "./quota-plan.js";
export {
  type QuotaDecision,
  type QuotaDemand,
  type QuotaHooks,
  type QuotaReservation,
  type QuotaSettings,
  Quotas,
  type SettledCall,
} from "./quotas.js";
export { ENCODING, PromptCalibration, TokenCounter } from "./tokens.js";
