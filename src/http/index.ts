export { type AdminDeps, adminCaller } from "./admin-routes.js";
export { type AppDeps, createAdminApp, createApp } from "./app.js";
export { type CorsPolicy, corsPolicy } from "./cors.js";
export type { FleetRouteDeps } from "./fleet-routes.js";
export type { ProxyDeps } from "./proxy-handler.js";
export { type HttpServer, type ListenOptions, listen, type ServerLimits } from "./server.js";
