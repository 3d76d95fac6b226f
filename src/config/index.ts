export { buildConfig, ConfigError, type Env, expandEnv, loadConfigFile } from "./load.js";
export type { GatewayConfig, GatewayConfigInput, NodeConfig } from "./schema.js";
