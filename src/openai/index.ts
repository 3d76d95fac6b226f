export * from "./api-schemas.js";
export * from "./envelope.js";
export * from "./routes.js";
export * from "./schemas.js";
export * from "./sse.js";
export * from "./usage.js";
export * from "./validate.js";
