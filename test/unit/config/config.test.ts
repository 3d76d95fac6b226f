// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConfig, ConfigError, loadConfigFile } from "../../../src/config/index.js";

const node = { id: "fra-1", url: "http://127.0.0.1:9001", region: "fra" };

function failure(document: unknown, env = {}): ConfigError {
  try {
    buildConfig(document, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("config was accepted");
}

describe("gateway config", () => {
  it("accepts the documented node shape and fills defaults", () => {
    const config = buildConfig(
      {
        server: { host: "0.0.0.0", port: 8080 },
        nodes: [{ ...node, api_key: "${FRA1_KEY}", models: ["tiny"] }],
      },
      { FRA1_KEY: "k1" },
    );
    expect(config.nodes[0]).toMatchObject({ id: "fra-1", api_key: "k1", models: ["tiny"], region: "fra" });
    expect(config.health.unhealthy_threshold).toBe(3);
    expect(config.routing.strategy).toBe("latency");
    expect(Object.isFrozen(config.nodes[0])).toBe(true);
  });

  it("expands ${VAR:-default} and treats an empty api key as none", () => {
    const config = buildConfig({ nodes: [{ ...node, api_key: "${MISSING:-}", url: "${HOST:-http://h:1}" }] });
    expect(config.nodes[0]?.api_key).toBeUndefined();
    expect(config.nodes[0]?.url).toBe("http://h:1");
  });

  it("names an unset variable with its key path", () => {
    const err = failure({ nodes: [{ ...node, api_key: "${FRA1_KEY}" }] });
    expect(err.keyPath).toBe("nodes[0].api_key");
    expect(err.message).toContain("FRA1_KEY");
  });

  it("rejects unknown keys, naming where they are", () => {
    expect(failure({ server: { prot: 1 } }).message).toContain("server");
    expect(failure({ nodes: [{ ...node, weight: 2 }] }).keyPath).toBe("nodes[0]");
  });

  it("names the bad key path of a wrong value", () => {
    expect(failure({ server: { port: 70000 } }).keyPath).toBe("server.port");
    expect(failure({ nodes: [{ ...node, url: "ftp://x" }] }).keyPath).toBe("nodes[0].url");
  });

  it("refuses node URLs with credentials, pointing to api_key, without echoing them", () => {
    for (const url of ["http://user:s3cret@127.0.0.1:9001", "http://user@h:1", "https://:s3cret@h"]) {
      const err = failure({ nodes: [{ ...node, url }] });
      expect(err.keyPath).toBe("nodes[0].url");
      expect(err.message).toMatch(/^nodes\[0\]\.url: .*user name or password.*api_key/);
      expect(err.message).not.toContain("s3cret");
    }
    const second = failure(
      { nodes: [node, { ...node, id: "b", url: "http://u:${PASS}@h:1" }] },
      { PASS: "p" },
    );
    expect(second.keyPath).toBe("nodes[1].url");
  });

  it("rejects unknown regions and duplicate node ids", () => {
    expect(failure({ nodes: [{ ...node, region: "atlantis" }] }).keyPath).toBe("nodes[0].region");
    expect(failure({ nodes: [node, node] }).keyPath).toBe("nodes[1].id");
  });

  it("accepts custom regions and lat/lon locations", () => {
    const config = buildConfig({
      regions: { home: { lat: 48.1, lon: 11.6 } },
      nodes: [
        { ...node, region: "home" },
        { id: "b", url: "http://127.0.0.1:2", lat: 1, lon: 2 },
      ],
    });
    expect(config.nodes).toHaveLength(2);
    expect(failure({ nodes: [{ id: "c", url: "http://x:1", lat: 1 }] }).keyPath).toBe("nodes[0].lat");
  });

  it("bounds what a client may hold of the server by default, and keeps the header deadline within the body's", () => {
    const { server, routing } = buildConfig({});
    expect(server).toMatchObject({
      headers_timeout_ms: 10_000,
      body_timeout_ms: 60_000,
      idle_timeout_ms: 5000,
      max_connections: 4096,
    });
    expect(routing.trust_cloudflare_headers).toBe(false);
    expect(failure({ server: { headers_timeout_ms: 5000, body_timeout_ms: 1000 } }).message).toBe(
      "server.headers_timeout_ms: must not exceed body_timeout_ms",
    );
  });

  it("reports YAML and file problems with the file name", () => {
    const dir = mkdtempSync(join(tmpdir(), "fleetgate-config-"));
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "server: [unclosed");
    expect(() => loadConfigFile(bad, {})).toThrow(/bad\.yaml is not valid YAML/);
    expect(() => loadConfigFile(join(dir, "missing.yaml"), {})).toThrow(/cannot read/);
    const wrong = join(dir, "wrong.yaml");
    writeFileSync(wrong, "server:\n  port: -1\n");
    expect(() => loadConfigFile(wrong, {})).toThrow(/wrong\.yaml: server\.port/);
  });

  it("loads the repository's own gateway.config.yaml", () => {
    const config = loadConfigFile("gateway.config.yaml", {});
    expect(config.nodes.length).toBeGreaterThan(0);
  });
});
