import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startFleet, TEST_ADMIN_TOKEN, type TestFleet } from "../support/fleet.js";

/**
 * Model names apps hard-code, the model list clients read, and the HTTP status a client gets
 * when a stream fails before its first token (issue 16 parts 3 and 5).
 */
const KEY = "sk-models-test-0123456789";
const ask = (model: string) => ({ model, max_tokens: 2, messages: [{ role: "user", content: "hi" }] });

interface Listed {
  id: string;
  created: number;
  aliases: string[];
  meta?: { n_ctx_train?: number };
  nodes?: string[];
}

describe("model names: config aliases and the opt-in default", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }], {
      config: {
        models: { aliases: { "gpt-4o-mini": "tiny" }, default: "tiny" },
        auth: { keys: [{ id: "k1", tenant: "t1", key: KEY, models: ["tiny"] }] },
      },
    });
  });
  afterAll(() => fleet?.close());
  const authorized = { headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` } };

  it("routes a configured alias to its model, and the key's model check sees the resolved name", async () => {
    const res = await postJson(`${fleet.baseURL}/chat/completions`, ask("gpt-4o-mini"), authorized);
    expect(res.status).toBe(200);
  });

  it("sends a model no node serves to models.default", async () => {
    const res = await postJson(`${fleet.baseURL}/chat/completions`, ask("text-davinci-003"), authorized);
    expect(res.status).toBe(200);
  });

  it("lists aliases, llama-server's meta and a real created time; nodes only for the admin", async () => {
    const list = async (headers: Record<string, string>) =>
      ((await (await fetch(`${fleet.baseURL}/models`, { headers })).json()) as { data: Listed[] }).data;
    const seen = await list({ authorization: `Bearer ${KEY}` });
    const tiny = seen.find((model) => model.id === "tiny");
    const alias = seen.find((model) => model.id === "gpt-4o-mini");
    expect(alias?.aliases).toEqual(["tiny"]);
    expect(tiny?.meta?.n_ctx_train).toBeGreaterThan(0);
    const now = Date.now() / 1000;
    expect(tiny?.created).toBeGreaterThan(now - 600);
    expect(tiny?.created).toBeLessThanOrEqual(now + 1);
    expect(seen.every((model) => model.nodes === undefined)).toBe(true);
    const asAdmin = await list({
      authorization: `Bearer ${KEY}`,
      "x-fleetgate-admin-token": TEST_ADMIN_TOKEN,
    });
    expect(asAdmin.find((model) => model.id === "tiny")?.nodes).toEqual(["node-0"]);
  });
});

describe("without models.default", () => {
  it("an unknown model is model_not_found, not quietly another model", async () => {
    const fleet = await startFleet([{ model: "tiny" }]);
    try {
      const res = await postJson(`${fleet.baseURL}/chat/completions`, ask("gpt-4o-mini"));
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    } finally {
      await fleet.close();
    }
  });
});

describe("the status of a stream that fails before its first token", () => {
  // The node takes 600 ms to its first token and then drops the connection; keep-alive comments
  // would go out every 200 ms.
  const slowDeath = [{ model: "tiny", ttftMs: 600, faults: { dieAfterTokens: 0 } }];
  const stream = { ...ask("tiny"), stream: true };

  it("is the real HTTP status while the wait is within server.keepalive_after_ms", async () => {
    const fleet = await startFleet(slowDeath, { config: { server: { keepalive_after_ms: 5000 } } });
    try {
      const res = await postJson(`${fleet.baseURL}/chat/completions`, stream);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("stream_interrupted");
    } finally {
      await fleet.close();
    }
  });

  it("is a committed 200 and an error event once keep-alive comments have gone out", async () => {
    const fleet = await startFleet(slowDeath, { config: { server: { keepalive_after_ms: 100 } } });
    try {
      const res = await postJson(`${fleet.baseURL}/chat/completions`, stream);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text.startsWith(": keep-alive")).toBe(true);
      expect(text).toContain('"code":"stream_interrupted"');
    } finally {
      await fleet.close();
    }
  });
});
