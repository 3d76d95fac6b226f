export { type AppDeps, createApp } from "./app.js";
export { type HttpServer, listen } from "./server.js";
