import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/telemetry/index.js";
import { postJson, startFleet, type TestFleet } from "../support/fleet.js";

const SECRET = "sk-access-log-secret-0123456789";
const messages = [{ role: "user", content: "Log me." }];

function recorder() {
  const lines: string[] = [];
  return { lines, log: createLogger("info", (line) => lines.push(line)) };
}

/** The access log lines (msg "request"), parsed. */
function requests(lines: readonly string[]): Record<string, unknown>[] {
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.msg === "request");
}

describe("the access log: one structured line per call", () => {
  const { lines, log } = recorder();
  let fleet: TestFleet;
  const post = (body: unknown, requestId: string, key = SECRET) =>
    postJson(`${fleet.baseURL}/chat/completions`, body, {
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${key}`,
        "x-request-id": requestId,
      },
    });

  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }], {
      log,
      config: { auth: { keys: [{ id: "team-key", tenant: "acme", key: SECRET }] } },
    });
  });
  afterAll(() => fleet.close());

  it("names the request, key, tenant, model, node, status, tokens, times, cache and route", async () => {
    const response = await post({ model: "tiny", messages, max_tokens: 5 }, "logged-1");
    expect(response.status).toBe(200);
    const [line] = requests(lines).filter((entry) => entry.requestId === "logged-1");
    expect(line).toMatchObject({
      level: "info",
      requestId: "logged-1",
      kind: "chat",
      stream: false,
      keyId: "team-key",
      tenant: "acme",
      model: "tiny",
      node: "node-0",
      attempts: 1,
      status: 200,
      code: null,
      completionTokens: 5,
      usage: "exact",
      cache: "bypass",
    });
    expect(line?.promptTokens).toBeGreaterThan(0);
    expect(line?.ttftMs).toBeGreaterThanOrEqual(0);
    expect(line?.durationMs).toBeGreaterThanOrEqual(line?.ttftMs as number);
    expect(String(line?.route)).toMatch(/^latency/);
    expect(line?.bytes).toBeGreaterThan(0);
  });

  it("logs refused calls with their code, and never the key's secret", async () => {
    await post({ model: "tiny", messages }, "logged-2", "sk-wrong-key-0123456789abcdef");
    await post({ model: "nobody-serves", messages }, "logged-3");
    const [refused] = requests(lines).filter((entry) => entry.requestId === "logged-2");
    expect(refused).toMatchObject({ status: 401, code: "invalid_api_key", keyId: null, node: null });
    const [unknown] = requests(lines).filter((entry) => entry.requestId === "logged-3");
    expect(unknown).toMatchObject({
      status: 404,
      code: "model_not_found",
      keyId: "team-key",
      tenant: "acme",
    });
    expect(lines.join("\n")).not.toContain(SECRET);
    expect(lines.join("\n")).not.toContain("sk-wrong-key");
  });

  it("writes exactly one line per call, streams included", async () => {
    const response = await post({ model: "tiny", messages, max_tokens: 3, stream: true }, "logged-4");
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const logged = requests(lines).filter((entry) => entry.requestId === "logged-4");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ stream: true, status: 200, completionTokens: 3 });
  });
});

describe("access_log.enabled: false", () => {
  it("writes no request lines", async () => {
    const { lines, log } = recorder();
    const fleet = await startFleet([{ model: "tiny" }], { log, config: { access_log: { enabled: false } } });
    try {
      await fleet.client.chat.completions.create({
        model: "tiny",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(requests(lines)).toHaveLength(0);
      // The gateway still logs what it logs otherwise.
      expect(lines.some((line) => line.includes("fleetgate listening"))).toBe(true);
    } finally {
      await fleet.close();
    }
  });
});
