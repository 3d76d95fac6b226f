export * from "./envelope.js";
export * from "./schemas.js";
export * from "./sse.js";
export * from "./usage.js";
export * from "./validate.js";
