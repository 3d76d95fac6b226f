/**
 * The open fleet end to end: real llama-servers, each with `fleetgate agent` as a separate process,
 * joining two gateway replicas that share a real Redis. SIGTERM drains then removes a node from
 * both; kill -9 of an agent removes it after the TTL; a node lying about its model stays out.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LlamaServerHandle, startLlamaServer } from "../../src/llama/server.js";
import type { RunningGateway } from "../../src/main.js";
import { postJson } from "../support/fleet.js";
import {
  ENROLLMENT_TOKEN,
  type NodeReportView,
  nodeOn,
  onEveryReplica,
  startOpenGateway,
} from "../support/open-fleet.js";
import { clearRedisPrefix, testRedisUrl } from "../support/redis.js";
import { ensureLlamaServerBinary, ensureTinyModel, freePort, TINY_MODEL_ALIAS } from "./llama-harness.js";

const REDIS_URL = testRedisUrl();
const TTL_MS = 2000;

function startAgent(gateway: string, llama: string, id: string, extra: string[] = []): ChildProcess {
  const args = ["--import", "tsx", "src/cli.ts", "agent", "--gateway", gateway, "--token", ENROLLMENT_TOKEN];
  return spawn(process.execPath, [...args, "--llama", llama, "--id", id, "--region", "fra", ...extra], {
    stdio: ["ignore", "ignore", process.env.FLEETGATE_E2E_LOGS === "1" ? "inherit" : "ignore"],
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });

describe("nodes joining two replicas through their agents", () => {
  const prefix = `fleetgate-e2e-${randomUUID()}:`;
  let replicas: RunningGateway[] = [];
  const servers: LlamaServerHandle[] = [];
  const agents: ChildProcess[] = [];

  beforeAll(async () => {
    const start = () =>
      startOpenGateway({
        store: { redis_url: REDIS_URL, key_prefix: prefix },
        fleet: { heartbeat_interval_ms: 500, heartbeat_ttl_ms: TTL_MS, sync_interval_ms: 1000 },
      });
    replicas = await Promise.all([start(), start()]);
    const [binary, model] = [await ensureLlamaServerBinary(), await ensureTinyModel()];
    for (let i = 0; i < 2; i++) {
      servers.push(
        await startLlamaServer({
          binary,
          model,
          port: await freePort(),
          threads: 1,
          slots: 2,
          alias: TINY_MODEL_ALIAS,
        }),
      );
    }
  });
  afterAll(async () => {
    for (const agent of agents) agent.kill("SIGKILL");
    await Promise.all(replicas.map((replica) => replica.close()));
    await Promise.all(servers.map((server) => server.stop()));
    await clearRedisPrefix(REDIS_URL, prefix);
  });

  const onBoth = (id: string, check: (node: NodeReportView | undefined) => boolean, timeoutMs: number) =>
    onEveryReplica(replicas, id, check, timeoutMs);

  it("a join is seen by both replicas and traffic flows; SIGTERM drains, then the node is gone from both", async () => {
    const [a, b] = replicas as [RunningGateway, RunningGateway];
    const agent = startAgent(a.url, servers[0]!.url, "real-0");
    agents.push(agent);
    expect(await onBoth("real-0", (node) => node?.admission === "verified", 30_000)).toBe(true);
    const completion = await postJson(`${b.url}/v1/chat/completions`, {
      model: TINY_MODEL_ALIAS,
      messages: [{ role: "user", content: "hello" }],
      max_tokens: 4,
    });
    expect(completion.status).toBe(200);
    expect(completion.headers.get("x-fleetgate-node")).toBe("real-0");
    agent.kill("SIGTERM");
    expect(await exited(agent)).toBe(0);
    expect(await onBoth("real-0", (node) => node === undefined, 2500)).toBe(true);
  });

  it("after kill -9 of an agent the node is gone from both after the TTL", async () => {
    const agent = startAgent(replicas[0]!.url, servers[1]!.url, "real-1");
    agents.push(agent);
    expect(await onBoth("real-1", (node) => node?.admission === "verified", 30_000)).toBe(true);
    const killed = performance.now();
    agent.kill("SIGKILL");
    expect(await onBoth("real-1", (node) => node === undefined, TTL_MS + 3000)).toBe(true);
    expect(performance.now() - killed).toBeGreaterThan(TTL_MS / 2);
  });

  it("a node claiming a model it does not serve stays in probation, with the reason", async () => {
    const agent = startAgent(replicas[1]!.url, servers[1]!.url, "liar", ["--models", "llama-70b"]);
    agents.push(agent);
    expect(
      await onBoth("liar", (node) => /claims 'llama-70b'/.test(node?.admission_reason ?? ""), 30_000),
    ).toBe(true);
    expect((await nodeOn(replicas[0]!, "liar"))?.admission).toBe("probation");
    agent.kill("SIGTERM");
    await exited(agent);
  });

  it("a wrong token is refused: the agent exits with the gateway's reason", async () => {
    const args = [
      "--import",
      "tsx",
      "src/cli.ts",
      "agent",
      "--gateway",
      replicas[0]!.url,
      "--token",
      "wrong-token-0123456789",
    ];
    const child = spawn(process.execPath, [...args, "--llama", servers[1]!.url, "--id", "nope"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    expect(await exited(child)).toBe(1);
    expect(stderr).toMatch(/invalid_enrollment_token/);
  });
});
