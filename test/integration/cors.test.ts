import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFleet, type TestFleet } from "../support/fleet.js";

/** CORS on both http paths: the fast path (chat) and the Hono app (models), preflights before either. */

const PAGE = "https://chat.example";

function preflight(url: string, origin: string, headers = "authorization, content-type, x-stainless-os") {
  return fetch(url, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": headers },
  });
}

describe("CORS with an allowlist", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }], { config: { server: { cors: { origins: [PAGE] } } } });
  });
  afterAll(() => fleet?.close());

  it("answers a listed origin's preflight with 204, its methods and the headers asked for", async () => {
    const res = await preflight(
      `${fleet.baseURL}/chat/completions`,
      PAGE,
      "Authorization, x-fleetgate-client-region, x-evil",
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization, x-fleetgate-client-region");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("vary")).toBe("Origin");
  });

  it("lets an Anthropic client's headers through to /v1/messages", async () => {
    const res = await preflight(
      `${fleet.baseURL}/messages`,
      PAGE,
      "x-api-key, anthropic-version, content-type",
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-headers")).toBe(
      "x-api-key, anthropic-version, content-type",
    );
  });

  it("answers another origin's preflight without any allow header", async () => {
    const res = await preflight(`${fleet.baseURL}/chat/completions`, "https://other.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("marks fast-path and Hono answers, errors included, and exposes the gateway's headers", async () => {
    const chat = await fetch(`${fleet.baseURL}/chat/completions`, {
      method: "POST",
      headers: { origin: PAGE, "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
    });
    const models = await fetch(`${fleet.baseURL}/models`, { headers: { origin: PAGE } });
    const missing = await fetch(`${fleet.baseURL}/nowhere`, { headers: { origin: PAGE } });
    for (const res of [chat, models, missing]) {
      expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
      const exposed = res.headers.get("access-control-expose-headers") ?? "";
      for (const name of [
        "x-request-id",
        "x-fleetgate-node",
        "x-ratelimit-remaining-tokens",
        "retry-after",
      ]) {
        expect(exposed).toContain(name);
      }
      await res.body?.cancel();
    }
    expect(chat.status).toBe(200);
  });
});

describe("CORS off (the default)", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }]);
  });
  afterAll(() => fleet?.close());

  it("sends no CORS header, so a browser refuses cross-origin use", async () => {
    const res = await fetch(`${fleet.baseURL}/models`, { headers: { origin: PAGE } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    await res.body?.cancel();
  });
});

describe("CORS for any origin", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }], { config: { server: { cors: { origins: ["*"] } } } });
  });
  afterAll(() => fleet?.close());

  it("allows every origin with `*`, never with credentials, and needs no Vary", async () => {
    const res = await preflight(`${fleet.baseURL}/embeddings`, "https://anywhere.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("vary")).toBeNull();
  });
});
