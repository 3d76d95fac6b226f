import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DashboardSnapshot } from "../../src/dashboard/index.js";
import { adminFetch, postJson, startFleet, TEST_ADMIN_TOKEN, type TestFleet } from "../support/fleet.js";

/** The dashboard's HTTP side: what loads for anyone, what needs the token, and the login cookie. */

const login = (base: string, body: unknown, headers: Record<string, string> = {}) =>
  postJson(`${base}/dashboard/login`, body, { headers: { "content-type": "application/json", ...headers } });

/** The cookie a successful login set, as a browser would send it back. */
async function session(base: string): Promise<string> {
  const reply = await login(base, { token: TEST_ADMIN_TOKEN });
  expect(reply.status).toBe(204);
  return (reply.headers.get("set-cookie") ?? "").split(";")[0]!;
}

const state = (base: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/dashboard/state`, { headers });

describe("the dashboard over HTTP", () => {
  let fleet: TestFleet;
  let base: string;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }, { model: "tiny" }]);
    base = fleet.gateway.adminUrl;
  });
  afterAll(() => fleet.close());

  it.each([
    ["/dashboard", "text/html"],
    ["/dashboard/dashboard.js", "text/javascript"],
    ["/dashboard/dashboard.css", "text/css"],
  ])("serves %s to anyone, from this origin only", async (path, type) => {
    const reply = await fetch(`${base}${path}`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toContain(type);
    expect(reply.headers.get("content-security-policy")).toContain("default-src 'none'");
    // Nothing from elsewhere (the machines that run it may be offline); the SVG namespace is only a name.
    expect(await reply.text()).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
  });

  it("answers its state 401 without the token, with a wrong one, or with the token not as Bearer", async () => {
    const refused: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token-0123456789" },
      { authorization: TEST_ADMIN_TOKEN },
    ];
    for (const headers of refused) {
      const reply = await state(base, headers);
      expect(reply.status).toBe(401);
      expect(((await reply.json()) as { error: { code: string } }).error.code).toBe("admin_unauthorized");
    }
  });

  it("answers its state to the admin token as a Bearer header, counting every call", async () => {
    for (let i = 0; i < 3; i++) {
      const reply = await postJson(`${fleet.baseURL}/chat/completions`, {
        model: "tiny",
        messages: [{ role: "user", content: `hi ${i}` }],
        max_tokens: 4,
      });
      await reply.text();
    }
    const reply = await adminFetch(base, "/dashboard/state");
    expect(reply.status).toBe(200);
    expect(reply.headers.get("cache-control")).toBe("no-store");
    const snapshot = (await reply.json()) as DashboardSnapshot;
    expect(snapshot.nodes.map((node) => node.id)).toEqual(["node-0", "node-1"]);
    expect(snapshot.summary).toMatchObject({ nodes: 2, healthy: 2, requests_total: 3, gateway: "serving" });
    expect(snapshot.usage.tenants[0]).toMatchObject({ requests: 3 });
  });

  it("logs in with the token: an HttpOnly, SameSite=Strict cookie scoped to /dashboard that opens the state", async () => {
    const reply = await login(base, { token: TEST_ADMIN_TOKEN });
    expect(reply.status).toBe(204);
    const cookie = reply.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^fleetgate_dashboard=\d+\.[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("Path=/dashboard");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Max-Age=43200");
    expect(cookie).not.toContain("Secure");
    expect(cookie).not.toContain(TEST_ADMIN_TOKEN);
    expect((await state(base, { cookie: cookie.split(";")[0]! })).status).toBe(200);
  });

  it("marks the cookie Secure behind a TLS-terminating proxy", async () => {
    const reply = await login(base, { token: TEST_ADMIN_TOKEN }, { "x-forwarded-proto": "https" });
    expect(reply.headers.get("set-cookie")).toContain("Secure");
  });

  it("opens only the dashboard with the cookie, never the admin API", async () => {
    const cookie = await session(base);
    expect((await fetch(`${base}/admin/nodes`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${base}/admin/keys`, { headers: { cookie } })).status).toBe(401);
  });

  it("refuses a forged or altered cookie", async () => {
    const cookie = await session(base);
    const [name, value] = cookie.split("=") as [string, string];
    const [expires, mac] = value.split(".") as [string, string];
    for (const forged of [
      `${expires}.${"A".repeat(43)}`,
      `${Number(expires) + 1}.${mac}`,
      TEST_ADMIN_TOKEN,
    ]) {
      expect((await state(base, { cookie: `${name}=${forged}` })).status).toBe(401);
    }
  });

  it.each([
    ["a wrong token", { token: "wrong-token-0123456789" }, 401, "admin_unauthorized"],
    ["no token", {}, 400, "invalid_request"],
    ["extra fields", { token: TEST_ADMIN_TOKEN, as: "root" }, 400, "invalid_request"],
  ])("refuses a login with %s, setting no cookie", async (_, body, status, code) => {
    const reply = await login(base, body);
    expect(reply.status).toBe(status);
    expect(((await reply.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(reply.headers.get("set-cookie")).toBeNull();
  });

  it("takes the token only as JSON, which no cross-site form can send", async () => {
    const reply = await fetch(`${base}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${TEST_ADMIN_TOKEN}`,
    });
    expect(reply.status).toBe(415);
    expect(reply.headers.get("set-cookie")).toBeNull();
  });

  it("logs out by expiring the cookie", async () => {
    const reply = await postJson(`${base}/dashboard/logout`, {});
    expect(reply.status).toBe(204);
    expect(reply.headers.get("set-cookie")).toMatch(/^fleetgate_dashboard=;.*Max-Age=0/);
  });
});

describe("the dashboard with no admin token configured", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }], { config: { admin: { token: "" } } });
  });
  afterAll(() => fleet.close());

  it("loads the page, but lets nobody log in or read the state", async () => {
    const base = fleet.gateway.adminUrl;
    expect((await fetch(`${base}/dashboard`)).status).toBe(200);
    const reply = await login(base, { token: TEST_ADMIN_TOKEN });
    expect(reply.status).toBe(401);
    expect(((await reply.json()) as { error: { message: string } }).error.message).toMatch(/disabled/);
    expect((await adminFetch(base, "/dashboard/state")).status).toBe(401);
  });
});

describe("the dashboard with the admin API on its own listener", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }], {
      config: { admin: { token: TEST_ADMIN_TOKEN, listen: "127.0.0.1:0" } },
    });
  });
  afterAll(() => fleet.close());

  it("is served there with the admin API, and not on the public port", async () => {
    expect((await fetch(`${fleet.gateway.adminUrl}/dashboard`)).status).toBe(200);
    expect((await adminFetch(fleet.gateway.adminUrl, "/dashboard/state")).status).toBe(200);
    for (const path of ["/dashboard", "/dashboard/state"]) {
      expect((await adminFetch(fleet.gateway.url, path)).status).toBe(404);
    }
  });
});
