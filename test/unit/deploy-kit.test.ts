import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { buildConfig } from "../../src/config/index.js";

// The deploy kit cannot be run here (no Docker daemon): its structure is checked instead, and its
// scripts are run as they are by test/integration/deploy-node.test.ts and test/e2e/deploy-node.test.ts.
const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const exists = (path: string) => existsSync(new URL(path, root));
const pinned = read(".nvmrc").trim();

type Service = {
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: unknown;
  ports?: string[];
  depends_on?: Record<string, unknown>;
};

describe("deploy/node/Dockerfile", () => {
  const dockerfile = read("deploy/node/Dockerfile");
  const lines = dockerfile.split("\n");

  it("builds on the pinned Node and picks CPU or CUDA stages by the BACKEND build arg", () => {
    expect(dockerfile).toContain(`ARG NODE_VERSION=${pinned}\n`);
    expect(dockerfile).toContain("ARG BACKEND=cpu\n");
    for (const stage of ["toolchain-cpu", "toolchain-cuda", "runtime-cpu", "runtime-cuda"]) {
      expect(lines.some((line) => line.startsWith("FROM ") && line.endsWith(` AS ${stage}`))).toBe(true);
    }
    expect(dockerfile).toMatch(/^FROM toolchain-\$\{BACKEND\} AS llama$/m);
    expect(dockerfile).toMatch(/^FROM runtime-\$\{BACKEND\}$/m);
    // Every node stage is the pinned node image or CUDA; nothing floats on :latest.
    expect(dockerfile).not.toMatch(/:latest\b/);
  });

  it("builds llama-server with the script the tests run, and runs it with the agent", () => {
    expect(dockerfile).toMatch(/^RUN \/app\/deploy\/node\/build-llama\.sh "\$\{BACKEND\}" \/opt\/llama$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["/app/deploy/node/entrypoint.sh"]');
    expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["\/app\/deploy\/node\/healthcheck\.sh"\]$/m);
    expect(dockerfile).toMatch(/LLAMA_ARG_PORT=8080/);
    expect(dockerfile).toContain("STOPSIGNAL SIGTERM");
    for (const script of ["build-llama.sh", "entrypoint.sh", "healthcheck.sh"]) {
      expect(() => accessSync(new URL(`deploy/node/${script}`, root), constants.X_OK)).not.toThrow();
    }
  });

  it("copies only paths that exist in the repository", () => {
    const sources = lines
      .filter((line) => line.startsWith("COPY ") && !line.includes("--from="))
      .flatMap((line) => line.slice(5).trim().split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(exists(source), source).toBe(true);
  });
});

describe("deploy/compose.yaml", () => {
  const compose = parseYaml(read("deploy/compose.yaml"), { merge: true }) as {
    services: Record<string, Service>;
  };
  const services = compose.services;
  const nodes = Object.entries(services).filter(([name]) => name.startsWith("node-"));
  const gateways = Object.entries(services).filter(([name]) => name.startsWith("gateway-"));

  it("has Redis, two gateways and three nodes", () => {
    expect(Object.keys(services).sort()).toEqual([
      "gateway-1",
      "gateway-2",
      "node-1",
      "node-2",
      "node-3",
      "redis",
    ]);
    expect(services.redis?.healthcheck).toBeDefined();
  });

  it("builds the gateways from the gateway image with a config that compiles, sharing Redis", () => {
    const ports = new Set<string>();
    for (const [, gateway] of gateways) {
      expect(gateway.build).toEqual({ context: "..", dockerfile: "Dockerfile" });
      expect(gateway.environment?.REDIS_URL).toBe("redis://redis:6379");
      expect(gateway.depends_on).toHaveProperty("redis");
      for (const port of gateway.ports ?? []) ports.add(port.split(":")[0]!);
      const mount = gateway.volumes?.[0]?.split(":") ?? [];
      expect(exists(`deploy/${mount[0]!.replace(/^\.\//, "")}`)).toBe(true);
      const config = buildConfig(parseYaml(read(`deploy/${mount[0]!.replace(/^\.\//, "")}`)), {
        REDIS_URL: gateway.environment?.REDIS_URL,
        FLEETGATE_ENROLLMENT_TOKEN: "compose-enrollment-token-0123",
        FLEETGATE_ALLOW_PRIVATE_URLS: gateway.environment?.FLEETGATE_ALLOW_PRIVATE_URLS,
      });
      expect(config.store.redis_url).toBe("redis://redis:6379");
      expect(config.fleet.enrollment_tokens).toEqual(["compose-enrollment-token-0123"]);
      // The compose network is private: its nodes have private addresses.
      expect(config.fleet.allow_private_urls).toBe(true);
    }
    expect(ports.size).toBe(2);
  });

  it("runs each node from the node image with its agent pointed at a gateway, each with its own id and URL", () => {
    const ids = new Set<string>();
    for (const [name, node] of nodes) {
      expect(node.build).toMatchObject({ context: "..", dockerfile: "deploy/node/Dockerfile" });
      expect(node.build?.args).toHaveProperty("BACKEND");
      const env = node.environment ?? {};
      expect(env.LLAMA_ARG_MODEL).toBeDefined();
      expect(env.FLEETGATE_TOKEN).toContain("FLEETGATE_ENROLLMENT_TOKEN");
      expect(gateways.map(([gateway]) => `http://${gateway}:8080`)).toContain(env.FLEETGATE_GATEWAY);
      expect(env.FLEETGATE_PUBLIC_URL).toBe(`http://${name}:${env.LLAMA_ARG_PORT}`);
      ids.add(env.FLEETGATE_NODE_ID ?? "");
    }
    expect(ids.size).toBe(3);
  });
});

interface FlyToml {
  primary_region: string;
  kill_signal: string;
  experimental: { cmd: string[] };
  http_service: {
    internal_port: number;
    concurrency: { type: string; soft_limit: number; hard_limit: number };
    checks: object[];
  };
  metrics: object;
}

describe("deploy/fly/fly.toml", () => {
  const fly = parseToml(read("deploy/fly/fly.toml")) as unknown as FlyToml;

  it("serves the gateway's port with request concurrency limits and a /readyz check", () => {
    expect(fly.primary_region).toMatch(/^[a-z]{3}$/);
    expect(fly.kill_signal).toBe("SIGTERM");
    const service = fly.http_service;
    expect(service.internal_port).toBe(8080);
    expect(service.concurrency.type).toBe("requests");
    expect(service.concurrency.soft_limit).toBeLessThan(service.concurrency.hard_limit);
    expect(service.checks).toEqual([expect.objectContaining({ path: "/readyz", method: "GET" })]);
    expect(fly.metrics).toEqual({ port: 8080, path: "/metrics" });
    expect(read("deploy/fly/fly.toml")).toMatch(/FLY_REGION/);
  });

  it("runs a config that the gateway image carries and that compiles, with public metrics for Fly's scraper", () => {
    const [command, flag, path] = fly.experimental.cmd;
    expect([command, flag]).toEqual(["serve", "--config"]);
    expect(read("Dockerfile")).toContain(`COPY ${path} ./${path}`);
    const config = buildConfig(parseYaml(read(path!)), {
      REDIS_URL: "redis://fly-redis:6379",
      FLEETGATE_ENROLLMENT_TOKEN: "fly-enrollment-token-0123456",
    });
    expect(config.server.port).toBe(fly.http_service.internal_port);
    expect(config.metrics.public).toBe(true);
    expect(config.fleet.allow_private_urls).toBe(false);
  });
});
