export { buildConfig, ConfigError, type Env, expandEnv, loadConfigFile } from "./load.js";
export type { ApiKeyConfig, GatewayConfig, GatewayConfigInput, KeyLimits, NodeConfig } from "./schema.js";
