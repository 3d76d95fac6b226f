import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch, startFleet, TEST_ADMIN_TOKEN, type TestFleet } from "../support/fleet.js";

/** The admin API: every route behind the token, on every spelling of its path and on its own listener. */

interface Reply {
  readonly status: number;
  readonly text: string;
}

interface ErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly code: string;
    readonly param: string | null;
  };
}

interface KeyListing {
  readonly keys: ReadonlyArray<
    Record<string, unknown> & { readonly id: string; readonly revoked_at: string | null }
  >;
}

type HeaderMap = Readonly<Record<string, string>>;

interface AdminRoute {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: string;
  readonly body?: unknown;
}

const ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: "GET", path: "/admin/nodes" },
  { method: "GET", path: "/admin/keys" },
  { method: "POST", path: "/admin/keys", body: { tenant: "intruder" } },
  { method: "DELETE", path: "/admin/keys/x" },
];

const WITH_TOKEN: HeaderMap = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** What a caller may send instead of the admin token; none of it opens the admin API. */
const NOT_THE_TOKEN: ReadonlyArray<readonly [string, HeaderMap]> = [
  ["without a token", {}],
  ["with a wrong token", { authorization: "Bearer wrong-admin-token-0123456789" }],
  ["with the token but not as Bearer", { authorization: TEST_ADMIN_TOKEN }],
  ["with the token in x-api-key", { "x-api-key": TEST_ADMIN_TOKEN }],
];

const json = <T>(reply: Reply): T => JSON.parse(reply.text) as T;

function expectError(reply: Reply, status: number, code: string): ErrorBody["error"] {
  expect(reply.status, reply.text).toBe(status);
  const { error } = json<ErrorBody>(reply);
  expect(error.code).toBe(code);
  return error;
}

async function call(base: string, route: AdminRoute, headers: HeaderMap): Promise<Reply> {
  const hasBody = route.body !== undefined;
  const response = await fetch(`${base}${route.path}`, {
    method: route.method,
    headers: hasBody ? { "content-type": "application/json", ...headers } : headers,
    ...(hasBody ? { body: typeof route.body === "string" ? route.body : JSON.stringify(route.body) } : {}),
  });
  return { status: response.status, text: await response.text() };
}

/** A GET whose target node:http sends byte for byte (fetch would resolve the dot segments itself). */
function rawGet(base: string, target: string, headers: HeaderMap): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: target, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const postKey = (base: string, body: unknown, headers: HeaderMap = WITH_TOKEN) =>
  call(base, { method: "POST", path: "/admin/keys", body }, headers);
const listKeys = async (base: string) => json<KeyListing>(await call(base, ADMIN_ROUTES[1]!, WITH_TOKEN));

const SPELLINGS = [
  "/v1/models/%2e%2e/%2e%2e/admin/nodes",
  "/%61dmin/nodes",
  "/v1/../admin/nodes",
  "//admin/nodes",
];

describe("the admin API on a locked gateway", () => {
  let fleet: TestFleet;
  let base: string;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }], { config: { auth: { required: true } } });
    base = fleet.gateway.adminUrl;
  });
  afterAll(() => fleet.close());

  describe.each(ADMIN_ROUTES)("$method $path", (route) => {
    it.each(NOT_THE_TOKEN)("refuses a caller %s with 401 admin_unauthorized", async (_, headers) => {
      const error = expectError(await call(base, route, headers), 401, "admin_unauthorized");
      expect(error.type).toBe("authentication_error");
      expect(error.message).toMatch(/needs the admin token/);
    });
  });

  it("a refused POST issues no key and a refused DELETE revokes nothing", async () => {
    const created = json<{ id: string }>(await postKey(base, { tenant: "kept" }));
    for (const [, headers] of NOT_THE_TOKEN) {
      await postKey(base, { tenant: "intruder" }, headers);
      await call(base, { method: "DELETE", path: `/admin/keys/${created.id}` }, headers);
    }
    const { keys } = await listKeys(base);
    expect(keys.filter((key) => key.tenant === "intruder")).toEqual([]);
    expect(keys.find((key) => key.id === created.id)?.revoked_at).toBeNull();
  });

  it("issues a key with 201, showing its secret only then; the key works on the API", async () => {
    const reply = await postKey(base, { tenant: "acme", models: ["tiny"], regions: ["FRA"] });
    expect(reply.status, reply.text).toBe(201);
    const issued = json<Record<string, unknown> & { id: string; key: string }>(reply);
    expect(issued).toMatchObject({
      tenant: "acme",
      models: ["tiny"],
      regions: ["fra"],
      source: "admin",
      revoked_at: null,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(issued.key).toMatch(new RegExp(`^fg_${issued.id}_[A-Za-z0-9_-]{32}$`));
    expect(issued).not.toHaveProperty("sha256");

    const models = await fetch(`${fleet.gateway.url}/v1/models`, { headers: { "x-api-key": issued.key } });
    expect(models.status).toBe(200);

    const listed = await call(base, ADMIN_ROUTES[1]!, WITH_TOKEN);
    expect(listed.status).toBe(200);
    const entry = json<KeyListing>(listed).keys.find((key) => key.id === issued.id);
    expect(entry).toMatchObject({ tenant: "acme", source: "admin", revoked_at: null });
    expect(entry).not.toHaveProperty("key");
    expect(listed.text).not.toContain(issued.key);
    expect(listed.text).not.toContain(issued.key.slice(-32));
    expect(listed.text).not.toMatch(/sha256/i);
  });

  it("revokes with DELETE, answering revoked_at; the key then stops working", async () => {
    const issued = json<{ id: string; key: string }>(await postKey(base, { tenant: "acme" }));
    const modelsWith = (key: string) =>
      fetch(`${fleet.gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    // Used once, so this gateway holds it in its cache: its own revocation must not wait for that.
    expect((await modelsWith(issued.key)).status).toBe(200);
    const reply = await call(base, { method: "DELETE", path: `/admin/keys/${issued.id}` }, WITH_TOKEN);
    expect(reply.status, reply.text).toBe(200);
    const revoked = json<{ id: string; revoked_at: string }>(reply);
    expect(revoked.id).toBe(issued.id);
    expect(Number.isNaN(Date.parse(revoked.revoked_at))).toBe(false);
    expect((await listKeys(base)).keys.find((key) => key.id === issued.id)?.revoked_at).toBe(
      revoked.revoked_at,
    );

    const refused = await modelsWith(issued.key);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as ErrorBody).error.message).toMatch(/revoked/);
  });

  it("answers DELETE of an unknown id with 404 key_not_found", async () => {
    const reply = await call(base, { method: "DELETE", path: "/admin/keys/no-such-key" }, WITH_TOKEN);
    expect(expectError(reply, 404, "key_not_found").message).toContain("no-such-key");
  });

  it.each([
    ["no tenant", {}, "tenant"],
    ["a tenant with spaces", { tenant: "two words" }, "tenant"],
    ["an empty model list", { tenant: "acme", models: [] }, "models"],
    ["a zero limit", { tenant: "acme", limits: { requests_per_minute: 0 } }, "limits.requests_per_minute"],
    ["an unknown region", { tenant: "acme", regions: ["fra", "atlantis"] }, "regions[1]"],
  ])("refuses a POST body with %s: 400 naming the field", async (_, body, param) => {
    const error = expectError(await postKey(base, body), 400, "invalid_request");
    expect(error.param).toBe(param);
    expect(error.message).toContain(param);
  });

  it("says why an unknown region is refused", async () => {
    const error = expectError(
      await postKey(base, { tenant: "acme", regions: ["atlantis"] }),
      400,
      "invalid_request",
    );
    expect(error.message).toMatch(/not a known region/);
  });

  it.each(SPELLINGS)("%s sent raw: 401 without the token, the node list with it", async (target) => {
    expectError(await rawGet(base, target, {}), 401, "admin_unauthorized");
    const allowed = await rawGet(base, target, WITH_TOKEN);
    expect(allowed.status, allowed.text).toBe(200);
    expect(json<{ nodes: { id: string }[] }>(allowed).nodes.map((node) => node.id)).toEqual(["node-0"]);
  });
});

describe("the admin API with no admin token configured", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }], { config: { admin: { token: "" } } });
  });
  afterAll(() => fleet.close());

  it.each(ADMIN_ROUTES)("$method $path refuses every caller with 401 admin_unauthorized", async (route) => {
    for (const headers of [{}, WITH_TOKEN]) {
      const error = expectError(
        await call(fleet.gateway.adminUrl, route, headers),
        401,
        "admin_unauthorized",
      );
      expect(error.message).toMatch(/admin API is disabled/);
    }
  });
});

describe("the admin API on its own listener (admin.listen)", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }], {
      config: { admin: { token: TEST_ADMIN_TOKEN, listen: "127.0.0.1:0" } },
    });
  });
  afterAll(() => fleet.close());

  it("gets a port of its own", () => {
    expect(fleet.gateway.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fleet.gateway.adminUrl).not.toBe(fleet.gateway.url);
  });

  it("is not served on the main port, in any spelling: 404 route_not_found", async () => {
    for (const target of ["/admin/nodes", ...SPELLINGS]) {
      expectError(await rawGet(fleet.gateway.url, target, WITH_TOKEN), 404, "route_not_found");
    }
  });

  it("serves the admin routes, still behind the token", async () => {
    const nodes = await adminFetch(fleet.gateway.adminUrl, "/admin/nodes");
    expect(nodes.status).toBe(200);
    expect(((await nodes.json()) as { nodes: { id: string }[] }).nodes.map((node) => node.id)).toEqual([
      "node-0",
    ]);
    expectError(await call(fleet.gateway.adminUrl, ADMIN_ROUTES[0]!, {}), 401, "admin_unauthorized");
  });

  it("does not serve the API on the admin port", async () => {
    expectError(await rawGet(fleet.gateway.adminUrl, "/v1/models", {}), 404, "route_not_found");
    const chat = await call(
      fleet.gateway.adminUrl,
      { method: "POST", path: "/v1/chat/completions", body: { model: "tiny", messages: [] } },
      {},
    );
    expectError(chat, 404, "route_not_found");
  });
});
