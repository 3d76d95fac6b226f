/**
 * The node image's build and run steps, as scripts, with the real llama.cpp: build-llama.sh installs
 * llama-server and its libraries into a directory of its own (as /opt/llama in the image), and the
 * entrypoint runs that binary, configured by LLAMA_ARG_* env, beside the agent, which joins it to a gateway.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/main.js";
import { eventually, postJson } from "../support/fleet.js";
import { ENROLLMENT_TOKEN, nodeOn, startOpenGateway } from "../support/open-fleet.js";
import { ensureTinyModel, freePort, TINY_MODEL_ALIAS } from "./llama-harness.js";

const repo = process.cwd();
const cli = `${process.execPath} --import tsx ${join(repo, "src/cli.ts")}`;

describe("the node image's steps with the real llama-server", () => {
  let gateway: RunningGateway;
  const opt = mkdtempSync(join(tmpdir(), "fleetgate-opt-llama-"));
  beforeAll(async () => {
    gateway = await startOpenGateway({ fleet: { heartbeat_interval_ms: 500, heartbeat_ttl_ms: 3000 } });
  });
  afterAll(() => gateway.close());

  it("build-llama.sh installs a llama-server that runs from its own directory", () => {
    // Built once per machine into the cache (the e2e setup paid for it): this is the copy step.
    const build = spawnSync(join(repo, "deploy/node/build-llama.sh"), ["cpu", opt], {
      env: { ...process.env, FLEETGATE_CLI: cli },
    });
    expect(build.status, build.stderr.toString()).toBe(0);
    // Run with only the installed directory to find libraries in, as in the image.
    const version = spawnSync(join(opt, "llama-server"), ["--version"], { env: { LD_LIBRARY_PATH: opt } });
    expect(version.status).toBe(0);
    expect(`${version.stdout}${version.stderr}`).toMatch(/version: \d+/);
  });

  it("the entrypoint serves the model from LLAMA_ARG_* env and joins the fleet; SIGTERM leaves it", async () => {
    const port = await freePort();
    const env = {
      ...process.env,
      LD_LIBRARY_PATH: opt,
      LLAMA_ARG_PORT: String(port),
      LLAMA_ARG_HOST: "127.0.0.1",
      LLAMA_ARG_MODEL: await ensureTinyModel(),
      LLAMA_ARG_ALIAS: TINY_MODEL_ALIAS,
      LLAMA_ARG_THREADS: "1",
      FLEETGATE_LLAMA_SERVER: join(opt, "llama-server"),
      FLEETGATE_CLI: cli,
      FLEETGATE_GATEWAY: gateway.url,
      FLEETGATE_TOKEN: ENROLLMENT_TOKEN,
      FLEETGATE_NODE_ID: "image-llama",
      FLEETGATE_REGION: "fra",
    };
    const entry = spawn(join(repo, "deploy/node/entrypoint.sh"), [], {
      env,
      stdio: "ignore",
      detached: true,
    });
    const exited = new Promise<number | null>((resolve) => entry.once("exit", (code) => resolve(code)));
    try {
      expect(
        await eventually(
          async () => (await nodeOn(gateway, "image-llama"))?.admission === "verified",
          60_000,
        ),
      ).toBe(true);
      const completion = await postJson(`${gateway.url}/v1/chat/completions`, {
        model: TINY_MODEL_ALIAS,
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 3,
      });
      expect(completion.status).toBe(200);
      expect(completion.headers.get("x-fleetgate-node")).toBe("image-llama");
      entry.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(await eventually(async () => (await nodeOn(gateway, "image-llama")) === undefined, 2000)).toBe(
        true,
      );
    } finally {
      if (entry.exitCode === null) process.kill(-entry.pid!, "SIGKILL");
    }
  });
});
