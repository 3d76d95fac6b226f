export { type AppDeps, createApp } from "./app.js";
export type { ProxyDeps } from "./proxy-handler.js";
export { type HttpServer, listen } from "./server.js";
