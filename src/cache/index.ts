export type { AnswerBody, StoredAnswer } from "./answer.js";
export { cacheKey, canonicalJson, type KeyParts } from "./key.js";
export { type CacheDirectives, type CacheMode, cacheDirectives, uncacheableReason } from "./policy.js";
export {
  type CacheDecision,
  type CacheFill,
  type CacheLookup,
  PromptCache,
  type PromptCacheSettings,
} from "./prompt-cache.js";
export { AnswerRecorder } from "./recorder.js";
export { freshId, pieces, replayBody, replayEvents } from "./replay.js";
export type { CacheEvents } from "./tiers.js";
