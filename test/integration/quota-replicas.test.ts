import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConfig, type GatewayConfigInput } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { silentLogger } from "../../src/telemetry/index.js";
import { adminFetch, eventually, postJson, TEST_ADMIN_TOKEN } from "../support/fleet.js";
import { freePort } from "../support/ports.js";
import { clearRedisPrefix, redisNowMs, testRedisUrl } from "../support/redis.js";

const REDIS_URL = testRedisUrl();
const KEY = "sk-replica-quota-key-0123456789";
const TPM = 3_000;
const MAX_TOKENS = 20;
const MINUTE = 60_000;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly totalTokens: number;
  readonly code: string | undefined;
}

describe("quotas across three replicas on one Redis", () => {
  const prefix = `fleetgate-test:quota-replicas:${randomUUID()}:`;
  let sims: SimNode[] = [];
  let replicas: RunningGateway[] = [];
  let config: GatewayConfigInput;

  beforeAll(async () => {
    sims = await Promise.all(
      [0, 1].map(() => startSimNode({ model: "tiny", slots: 64, ttftMs: 2, tokensPerSecond: 5000 })),
    );
    config = {
      server: { host: "127.0.0.1", port: 0 },
      health: { interval_ms: 100 },
      admin: { token: TEST_ADMIN_TOKEN },
      store: { redis_url: REDIS_URL, key_prefix: prefix },
      auth: {
        keys: [
          { id: "shared", tenant: "acme", key: KEY, limits: { tokens_per_minute: TPM } },
          { id: "solo", tenant: "solo", key: `${KEY}-solo`, limits: { max_concurrent: 1 } },
        ],
      },
      resilience: { queue_length: 1024 },
      nodes: sims.map((sim, i) => ({ id: `node-${i}`, url: sim.url })),
    };
    const built = buildConfig(config);
    replicas = await Promise.all([0, 1, 2].map(() => startGateway(built, silentLogger)));
    // On a loaded machine the first probes can come late; the quotas, not the nodes' health, are under test.
    for (const replica of replicas) {
      expect(await eventually(async () => (await fetch(`${replica.url}/readyz`)).ok, 10_000)).toBe(true);
    }
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await Promise.all(sims.map((sim) => sim.close()));
    await clearRedisPrefix(REDIS_URL, prefix);
  });

  async function ask(replica: RunningGateway, i: number, key = KEY): Promise<Answer> {
    const response = await postJson(
      `${replica.url}/v1/chat/completions`,
      { model: "tiny", messages: [{ role: "user", content: `client ${i} asks` }], max_tokens: MAX_TOKENS },
      { headers: { "content-type": "application/json", authorization: `Bearer ${key}` } },
    );
    const body = (await response.json()) as { usage?: { total_tokens: number }; error?: { code: string } };
    return {
      status: response.status,
      headers: response.headers,
      totalTokens: body.usage?.total_tokens ?? 0,
      code: body.error?.code,
    };
  }

  it("64 concurrent clients spread over the replicas never get past one key's tokens per minute", async () => {
    const startedMs = await redisNowMs(REDIS_URL);
    // One call per replica first, settled, so that each has learned how the sim's prompt count compares
    // with cl100k's (14 to 11 here): after that every reservation covers its call's exact usage, and no
    // extra charge at settlement can land after the window admitted others. The warm-up counts in full.
    const warmUp: Answer[] = [];
    for (const [i, replica] of replicas.entries()) warmUp.push(await ask(replica, i));
    expect(
      await eventually(
        async () => (await keyRow(replicas[0] as RunningGateway, "shared"))?.requests === warmUp.length,
        10_000,
      ),
    ).toBe(true);
    const burst = await Promise.all(
      Array.from({ length: 64 }, async (_, client) => {
        const mine: Answer[] = [];
        for (let round = 0; round < 4; round++)
          mine.push(await ask(replicas[(client + round) % 3] as RunningGateway, client));
        return mine;
      }),
    ).then((all) => all.flat());
    const endedMs = await redisNowMs(REDIS_URL);
    const answers = [...warmUp, ...burst];
    const admitted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status !== 200 && a.status !== 429).map((a) => a.code)).toEqual([]);
    expect(refused.length).toBeGreaterThan(0);
    const used = admitted.reduce((sum, a) => sum + a.totalTokens, 0);
    expect(
      Math.floor(endedMs / MINUTE) - Math.floor(startedMs / MINUTE),
      "the run crossed more than one minute edge, which the bound below does not cover",
    ).toBeLessThanOrEqual(1);
    expect(used, boundReport(startedMs, endedMs, used)).toBeLessThanOrEqual(
      TPM + slidOut(startedMs, endedMs, used),
    );
    // Far more was asked than fits, so the limit, not the clients, decided how much got through.
    expect(used).toBeGreaterThan(TPM / 2);
    for (const answer of refused) {
      expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(answer.headers.get("x-ratelimit-limit-tokens")).toBe(String(TPM));
      expect(answer.headers.get("x-ratelimit-remaining-tokens")).not.toBeNull();
    }
    // The ledger, written by three replicas, holds exactly what the clients were told they used.
    await eventually(
      async () => (await keyRow(replicas[0] as RunningGateway, "shared"))?.requests === answers.length,
    );
    const row = await keyRow(replicas[0] as RunningGateway, "shared");
    expect(row).toMatchObject({ requests: answers.length, errors: refused.length, estimated_tokens: 0 });
    expect((row?.prompt_tokens ?? 0) + (row?.completion_tokens ?? 0)).toBe(used);
  });

  it("a replica killed mid-stream leaves its concurrency slot held only until it expires", async () => {
    const file = join(tmpdir(), `fleetgate-quota-${randomUUID()}.json`);
    const port = await freePort();
    // A short request timeout, so that the dead replica's slot (timeout + 5 s) lapses within the test.
    writeFileSync(
      file,
      JSON.stringify({ ...config, server: { ...config.server, port, request_timeout_ms: 2_000 } }),
    );
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "serve", "--config", file], {
      stdio: "ignore",
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      expect(
        await eventually(
          async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true,
          40_000,
        ),
      ).toBe(true);
      const stream = await postJson(
        `${url}/v1/chat/completions`,
        { model: "tiny", messages: [{ role: "user", content: "hold on" }], stream: true, max_tokens: 2_000 },
        { headers: { "content-type": "application/json", authorization: `Bearer ${KEY}-solo` } },
      );
      expect(stream.status).toBe(200);
      await stream.body?.getReader().read();
      kill(child);
      // The dead replica never settled: its slot blocks the key on every other replica...
      expect((await ask(replicas[0] as RunningGateway, 0, `${KEY}-solo`)).status).toBe(429);
      // ...until the slot's own expiry (request timeout plus a margin) passes, with nothing left behind.
      expect(
        await eventually(
          async () => (await ask(replicas[1] as RunningGateway, 0, `${KEY}-solo`)).status === 200,
          15_000,
        ),
      ).toBe(true);
    } finally {
      kill(child);
    }
  }, 80_000);
});

/**
 * What the window may admit on top of its limit because the run crossed a minute edge: the two-bucket
 * sliding window weighs the earlier bucket by how much of it still overlaps, so by `e` ms into the new
 * bucket `e / MINUTE` of what the earlier one holds (at most everything used) has slid out and may be
 * used again. Within one bucket that is nothing, and the limit holds to the token.
 */
function slidOut(startedMs: number, endedMs: number, used: number): number {
  if (Math.floor(startedMs / MINUTE) === Math.floor(endedMs / MINUTE)) return 0;
  return Math.ceil((used * (endedMs % MINUTE)) / MINUTE);
}

function boundReport(startedMs: number, endedMs: number, used: number): string {
  const at = (ms: number) => `${((ms % MINUTE) / 1000).toFixed(1)} s into minute ${Math.floor(ms / MINUTE)}`;
  return `tokens admitted over a run from ${at(startedMs)} to ${at(endedMs)} (${slidOut(startedMs, endedMs, used)} slid out of the window)`;
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null) child.kill("SIGKILL");
}

async function keyRow(replica: RunningGateway, key: string) {
  const response = await adminFetch(replica.url, "/admin/usage?group_by=key");
  const rows = ((await response.json()) as { data: Record<string, number | string | null>[] }).data;
  return rows.find((row) => row.key === key) as Record<string, number> | undefined;
}
