/** Keeping a failing fleet usable: breakers, retry budget, admission queue, hedging, continuation. */
export { type AdmissionOptions, AdmissionQueue } from "./admission.js";
export {
  type BreakerSettings,
  type BreakerSnapshot,
  type BreakerState,
  type BreakerStateListener,
  DEFAULT_BREAKER_SETTINGS,
  NodeBreakers,
  type NodeBreakersOptions,
} from "./breakers.js";
export {
  type ContinuationInput,
  type ContinuationOutcome,
  type ContinuationStream,
  type ContinuedUsage,
  continueChatStream,
} from "./continuation.js";
export {
  type HedgeOptions,
  type HedgeResult,
  raceWithHedge,
  TtftTracker,
  type TtftTrackerOptions,
} from "./hedging.js";
export { DEFAULT_RETRY_BUDGET, RetryBudget, type RetryBudgetSettings } from "./retry-budget.js";
export { type ChunkBase, StreamTranscript } from "./transcript.js";
