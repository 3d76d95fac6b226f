import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/main.js";
import { eventually } from "../support/fleet.js";
import { ENROLLMENT_TOKEN, nodeOn, startOpenGateway } from "../support/open-fleet.js";
import { freePort } from "../support/ports.js";

// The node image's entrypoint and healthcheck, run as they are, with the simulated llama-server in
// place of the real one (test/e2e/deploy-node.test.ts runs them with the real one).
const repo = process.cwd();
const cli = `${process.execPath} --import tsx ${join(repo, "src/cli.ts")}`;

function simAsLlamaServer(): string {
  const dir = mkdtempSync(join(tmpdir(), "fleetgate-deploy-"));
  const path = join(dir, "llama-server");
  // Reads LLAMA_ARG_PORT as llama-server does.
  writeFileSync(path, `#!/bin/sh\nexec ${cli} sim --port "$LLAMA_ARG_PORT" --model tiny\n`, { mode: 0o755 });
  return path;
}

describe("the node image's entrypoint and healthcheck", () => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startOpenGateway({ fleet: { heartbeat_interval_ms: 300, heartbeat_ttl_ms: 1500 } });
  });
  afterAll(() => gateway.close());

  it("runs llama-server and the agent from env, passes its healthcheck on LLAMA_ARG_PORT, and leaves the fleet on SIGTERM", async () => {
    const port = await freePort();
    const env = {
      ...process.env,
      LLAMA_ARG_PORT: String(port),
      FLEETGATE_LLAMA_SERVER: simAsLlamaServer(),
      FLEETGATE_CLI: cli,
      FLEETGATE_GATEWAY: gateway.url,
      FLEETGATE_TOKEN: ENROLLMENT_TOKEN,
      FLEETGATE_NODE_ID: "image-node",
      FLEETGATE_REGION: "ams",
    };
    // Its own process group, so that a failing test can end llama-server and the agent with it.
    const entry = spawn(join(repo, "deploy/node/entrypoint.sh"), [], {
      env,
      stdio: "ignore",
      detached: true,
    });
    const exited = new Promise<number | null>((resolve) => entry.once("exit", (code) => resolve(code)));
    try {
      expect(
        await eventually(async () => (await nodeOn(gateway, "image-node"))?.admission === "verified", 20_000),
      ).toBe(true);
      const health = (p: number) =>
        spawnSync(join(repo, "deploy/node/healthcheck.sh"), [], {
          env: { ...process.env, LLAMA_ARG_PORT: String(p) },
        }).status;
      expect(health(port)).toBe(0);
      expect(health(await freePort())).toBe(1);
      entry.kill("SIGTERM");
      expect(await exited).toBe(0);
      // Deregistered by the agent, well before its TTL could have removed it.
      expect(await eventually(async () => (await nodeOn(gateway, "image-node")) === undefined, 1000)).toBe(
        true,
      );
    } finally {
      if (entry.exitCode === null) process.kill(-entry.pid!, "SIGKILL");
    }
  });
});
