import { readFileSync } from "node:fs";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { issuePath } from "../errors.js";
import { resolveRegion } from "../geo/index.js";
import { configSchema, type GatewayConfig } from "./schema.js";

/** A config problem, always naming where it is: the file and the key path. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly keyPath: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Replaces `${VAR}` and `${VAR:-default}` in every string; an unset variable without default is an error. */
export function expandEnv(value: unknown, env: Env, path: ReadonlyArray<string | number> = []): unknown {
  if (typeof value === "string") {
    return value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (_, name: string, fallback?: string) => {
        const found = env[name];
        if (found !== undefined && found !== "") return found;
        if (fallback !== undefined) return fallback;
        throw new ConfigError(`environment variable ${name} is not set`, issuePath(path));
      },
    );
  }
  if (Array.isArray(value)) return value.map((item, i) => expandEnv(item, env, [...path, i]));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, [...path, k])]));
  }
  return value;
}

/** Validates a parsed document: schema, env expansion, and that every region code is known. */
export function buildConfig(document: unknown, env: Env = {}): GatewayConfig {
  const result = configSchema.safeParse(withEnvOverrides(expandEnv(document ?? {}, env), env));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issuePath(issue.path);
    throw new ConfigError(`${path || "(root)"}: ${issue.message}`, path);
  }
  const config = result.data;
  checkRegions(config);
  return deepFreeze(config);
}

/** FLEETGATE_ADMIN_TOKEN wins over `admin.token`, so the token can stay out of the file. */
function withEnvOverrides(document: unknown, env: Env): unknown {
  const token = env.FLEETGATE_ADMIN_TOKEN;
  if (!token || !document || typeof document !== "object" || Array.isArray(document)) return document;
  const root = document as Record<string, unknown>;
  const admin = root.admin && typeof root.admin === "object" ? (root.admin as Record<string, unknown>) : {};
  return { ...root, admin: { ...admin, token } };
}

function checkRegions(config: GatewayConfig): void {
  const custom = new Map(Object.entries(config.regions));
  const check = (region: string | undefined, path: string) => {
    if (region !== undefined && !resolveRegion(region, custom)) {
      throw new ConfigError(
        `${path}: unknown region '${region}' (add it under 'regions' with lat and lon)`,
        path,
      );
    }
  };
  check(config.location?.region, "location.region");
  config.nodes.forEach((node, i) => {
    check(node.region, `nodes[${i}].region`);
  });
  config.auth.keys.forEach((key, i) => {
    key.regions?.forEach((region, j) => {
      check(region, `auth.keys[${i}].regions[${j}]`);
    });
  });
  config.routing.allowed_regions?.forEach((region, i) => {
    check(region, `routing.allowed_regions[${i}]`);
  });
  config.routing.residency.forEach((rule, i) => {
    rule.client_regions.forEach((region, j) => {
      check(region, `routing.residency[${i}].client_regions[${j}]`);
    });
    rule.node_regions.forEach((region, j) => {
      check(region, `routing.residency[${i}].node_regions[${j}]`);
    });
  });
}

export function loadConfigFile(file: string, env: Env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`, "");
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    const detail = err instanceof YAMLParseError ? err.message : String(err);
    throw new ConfigError(`${file} is not valid YAML: ${detail}`, "");
  }
  try {
    return buildConfig(document, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.message}`, err.keyPath);
    throw err;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
