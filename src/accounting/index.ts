export { estimateChatTokens, estimateTokens } from "./estimate.js";
