export { buildConfig, ConfigError, type Env, expandEnv, loadConfigFile } from "./load.js";
export { type KeyLimits, limitsSchema, type QuotasConfig } from "./quotas.js";
export type { ApiKeyConfig, GatewayConfig, GatewayConfigInput, NodeConfig } from "./schema.js";
