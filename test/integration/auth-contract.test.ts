import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/accounting/index.js";
import { buildConfig } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { silentLogger } from "../../src/telemetry/index.js";
import { adminFetch, startFleet, TEST_ADMIN_TOKEN, type TestFleet } from "../support/fleet.js";

/**
 * The auth contract (hono's router/common.case.test.ts idea): one table of cases, run over every API
 * route on both http paths — the Node fast path (proxied POSTs) and the Hono app (model listings).
 */

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

interface Envelope {
  readonly error: { readonly message: string; readonly type: string; readonly code: string };
}

type HeaderMap = Readonly<Record<string, string>>;

interface ApiRoute {
  readonly name: string;
  readonly path: (model: string) => string;
  /** The JSON body of a POST; GET routes have none. */
  readonly body?: (model: string) => Record<string, unknown>;
  /** What a served call for "tiny" looks like. */
  readonly served: (reply: Reply) => void;
  /** What a key allowed only "other" gets when it asks for "tiny". */
  readonly refusedModel: (reply: Reply) => void;
}

const PROMPT = [{ role: "user", content: "Say hello." }];

function json<T>(reply: Reply): T {
  return JSON.parse(reply.text) as T;
}

function expectError(reply: Reply, status: number, code: string, type: string): Envelope["error"] {
  expect(reply.status, reply.text).toBe(status);
  const { error } = json<Envelope>(reply);
  expect(error).toMatchObject({ code, type });
  expect(error.message).toEqual(expect.any(String));
  return error;
}

const modelNotAllowed = (reply: Reply) => {
  expect(expectError(reply, 403, "model_not_allowed", "permission_error").message).toContain("tiny");
};

const listedIds = (reply: Reply) => json<{ data: { id: string }[] }>(reply).data.map((model) => model.id);

const ROUTES: readonly ApiRoute[] = [
  {
    name: "fast path POST /v1/chat/completions",
    path: () => "/v1/chat/completions",
    body: (model) => ({ model, messages: PROMPT, max_tokens: 3 }),
    served: (reply) => expect(json<{ object: string }>(reply).object).toBe("chat.completion"),
    refusedModel: modelNotAllowed,
  },
  {
    name: "fast path POST /v1/chat/completions (stream)",
    path: () => "/v1/chat/completions",
    body: (model) => ({ model, messages: PROMPT, max_tokens: 3, stream: true }),
    served: (reply) => {
      expect(reply.headers.get("content-type")).toMatch(/^text\/event-stream/);
      expect(reply.text).toContain('"chat.completion.chunk"');
      expect(reply.text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    },
    refusedModel: modelNotAllowed,
  },
  {
    name: "fast path POST /v1/completions",
    path: () => "/v1/completions",
    body: (model) => ({ model, prompt: "Once upon a time", max_tokens: 3 }),
    served: (reply) => expect(json<{ object: string }>(reply).object).toBe("text_completion"),
    refusedModel: modelNotAllowed,
  },
  {
    name: "fast path POST /v1/embeddings",
    path: () => "/v1/embeddings",
    body: (model) => ({ model, input: "embed me" }),
    served: (reply) => {
      const body = json<{ object: string; data: { object: string; embedding: number[] }[] }>(reply);
      expect(body.object).toBe("list");
      expect(body.data[0]?.object).toBe("embedding");
    },
    refusedModel: modelNotAllowed,
  },
  {
    name: "Hono GET /v1/models",
    path: () => "/v1/models",
    served: (reply) => expect(listedIds(reply)).toContain("tiny"),
    // The listing is not refused: it leaves out what the key may not use.
    refusedModel: (reply) => {
      expect(reply.status, reply.text).toBe(200);
      expect(listedIds(reply)).toEqual(["other"]);
    },
  },
  {
    name: "Hono GET /v1/models/{id}",
    path: (model) => `/v1/models/${model}`,
    served: (reply) => expect(json<{ id: string }>(reply).id).toBe("tiny"),
    refusedModel: modelNotAllowed,
  },
];

const INFERENCE_ROUTES = ROUTES.filter((route) => route.body !== undefined);

function routeNamed(name: string): ApiRoute {
  const found = ROUTES.find((route) => route.name === name);
  if (!found) throw new Error(`no route named ${name}`);
  return found;
}

/** Both ways a client may present its key. */
const PRESENTATIONS: ReadonlyArray<readonly [string, (secret: string) => HeaderMap]> = [
  ["Authorization: Bearer", (secret) => ({ authorization: `Bearer ${secret}` })],
  ["x-api-key", (secret) => ({ "x-api-key": secret })],
];

// Configured secrets; the config holds only their sha256 (or reads one from the environment).
const CONFIG_SECRET = "contract-config-key-by-sha256";
const ENV_SECRET = "contract-config-key-from-env";
const OTHER_MODEL_SECRET = "contract-key-for-other-model";
const FRA_SECRET = "contract-key-pinned-to-fra-01";
const REVOKED_CONFIG_SECRET = "contract-config-key-revoked-1";

/** Secrets by name; the admin-issued ones are filled in once the gateway runs. */
const secrets = new Map<string, string>([
  ["config (sha256)", CONFIG_SECRET],
  ["config (env)", ENV_SECRET],
  ["other model only", OTHER_MODEL_SECRET],
  ["revoked config", REVOKED_CONFIG_SECRET],
  ["bad", "sk-this-key-was-never-issued-0000"],
  ["issued format, never issued", `fg_${"0".repeat(16)}_${"A".repeat(32)}`],
]);

function secret(name: string): string {
  const found = secrets.get(name);
  if (found === undefined) throw new Error(`no secret named ${name}`);
  return found;
}

interface AuthCase {
  readonly name: string;
  /** Undefined sends no key at all. */
  readonly key: string | undefined;
  readonly check: (route: ApiRoute, reply: Reply) => void;
}

const refusedKey = (message: RegExp) => (_route: ApiRoute, reply: Reply) => {
  expect(expectError(reply, 401, "invalid_api_key", "authentication_error").message).toMatch(message);
};
const servedOk = (route: ApiRoute, reply: Reply) => {
  expect(reply.status, reply.text).toBe(200);
  route.served(reply);
};

const CASES: readonly AuthCase[] = [
  { name: "no key → 401", key: undefined, check: refusedKey(/No API key/) },
  { name: "a bad key → 401", key: "bad", check: refusedKey(/not valid/) },
  {
    name: "an issued-looking key never issued → 401",
    key: "issued format, never issued",
    check: refusedKey(/not valid/),
  },
  { name: "a revoked admin-issued key → 401 revoked", key: "revoked issued", check: refusedKey(/revoked/) },
  { name: "a revoked config key → 401 revoked", key: "revoked config", check: refusedKey(/revoked/) },
  { name: "a config key given by sha256 → 200", key: "config (sha256)", check: servedOk },
  { name: "a config key given via an env variable → 200", key: "config (env)", check: servedOk },
  { name: "an admin-issued key → 200", key: "issued", check: servedOk },
  {
    name: "a key restricted to another model → 403 (listing filtered)",
    key: "other model only",
    check: (route, reply) => route.refusedModel(reply),
  },
];

interface KeyedFleet {
  readonly gateway: RunningGateway;
  readonly sims: readonly SimNode[];
}

const NODES = [
  { id: "node-fra", model: "tiny", region: "fra" },
  { id: "node-iad", model: "tiny", region: "iad" },
  { id: "node-other", model: "other", region: "iad" },
] as const;

/**
 * startFleet builds its config without an environment; this gateway needs one, for the key given
 * as `${CONTRACT_API_KEY}`. Round robin without affinity, so an unpinned key visits every node.
 */
async function startKeyedFleet(): Promise<KeyedFleet> {
  const sims = await Promise.all(NODES.map((node) => startSimNode({ model: node.model })));
  const config = buildConfig(
    {
      server: { host: "127.0.0.1", port: 0 },
      health: { interval_ms: 100, timeout_ms: 500 },
      admin: { token: TEST_ADMIN_TOKEN },
      routing: { strategy: "round-robin", affinity: false },
      auth: {
        keys: [
          { id: "by-sha", tenant: "acme", key_sha256: sha256Hex(CONFIG_SECRET) },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
          { id: "by-env", tenant: "acme", key: "${CONTRACT_API_KEY}" },
          { id: "other-only", tenant: "acme", key_sha256: sha256Hex(OTHER_MODEL_SECRET), models: ["other"] },
          { id: "fra-only", tenant: "eu", key_sha256: sha256Hex(FRA_SECRET), regions: ["fra"] },
          { id: "to-revoke", tenant: "acme", key_sha256: sha256Hex(REVOKED_CONFIG_SECRET) },
        ],
      },
      nodes: NODES.map((node, i) => ({ id: node.id, url: sims[i]!.url, region: node.region })),
    },
    { CONTRACT_API_KEY: ENV_SECRET },
  );
  return { gateway: await startGateway(config, silentLogger), sims };
}

async function send(base: string, route: ApiRoute, headers: HeaderMap, model = "tiny"): Promise<Reply> {
  const body = route.body?.(model);
  const response = await fetch(`${base}${route.path(model)}`, {
    method: body ? "POST" : "GET",
    headers: body ? { "content-type": "application/json", ...headers } : headers,
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function admin(base: string, method: "POST" | "DELETE", path: string, body?: unknown): Promise<Reply> {
  const response = await adminFetch(base, path, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function issueKey(base: string, grant: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const reply = await admin(base, "POST", "/admin/keys", grant);
  expect(reply.status, reply.text).toBe(201);
  return json<{ id: string; key: string }>(reply);
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

describe("the auth contract, over every API route on both http paths", () => {
  let fleet: KeyedFleet;
  let url: string;

  beforeAll(async () => {
    fleet = await startKeyedFleet();
    url = fleet.gateway.url;
    secrets.set("issued", (await issueKey(url, { tenant: "acme" })).key);
    const doomed = await issueKey(url, { tenant: "acme" });
    secrets.set("revoked issued", doomed.key);
    for (const id of [doomed.id, "to-revoke"]) {
      const revoked = await admin(url, "DELETE", `/admin/keys/${id}`);
      expect(revoked.status, revoked.text).toBe(200);
    }
  });
  afterAll(async () => {
    await fleet?.gateway.close();
    await Promise.all(fleet?.sims.map((sim) => sim.close()) ?? []);
  });

  describe.each(ROUTES)("$name", (route) => {
    it.each(CASES)("$name", async (authCase) => {
      for (const [how, present] of PRESENTATIONS) {
        const headers = authCase.key === undefined ? {} : present(secret(authCase.key));
        const reply = await send(url, route, headers);
        try {
          authCase.check(route, reply);
        } catch (err) {
          throw new Error(`key sent as ${how}: ${(err as Error).message}`, { cause: err });
        }
      }
    });
  });

  it("GET /v1/models/{id} for a model the key may not use is 403, for one it may is 200", async () => {
    const byId = routeNamed("Hono GET /v1/models/{id}");
    const headers = { authorization: `Bearer ${OTHER_MODEL_SECRET}` };
    modelNotAllowed(await send(url, byId, headers, "tiny"));
    const allowed = await send(url, byId, headers, "other");
    expect(allowed.status, allowed.text).toBe(200);
    expect(json<{ id: string }>(allowed).id).toBe("other");
  });

  it("the official openai SDK works with a good key and gets AuthenticationError with a bad one", async () => {
    const client = (apiKey: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
    const request = { model: "tiny", messages: [{ role: "user" as const, content: "Hi" }], max_tokens: 3 };
    const completion = await client(CONFIG_SECRET).chat.completions.create(request);
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]?.message.content).toEqual(expect.any(String));

    const err = await caught(client(secret("bad")).chat.completions.create(request));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err).toMatchObject({ status: 401, code: "invalid_api_key", type: "authentication_error" });
  });

  describe("a key pinned to regions", () => {
    const pinned = { authorization: `Bearer ${FRA_SECRET}` };

    it.each(INFERENCE_ROUTES)(
      "$name: asking only for other regions → 403 region_not_allowed",
      async (route) => {
        const reply = await send(url, route, { ...pinned, "x-fleetgate-allowed-regions": "iad" });
        expect(expectError(reply, 403, "region_not_allowed", "permission_error").message).toContain("iad");
      },
    );

    it.each(INFERENCE_ROUTES)("$name: stays on nodes in the pinned regions", async (route) => {
      const narrowings: HeaderMap[] = [{}, { "x-fleetgate-allowed-regions": "iad,fra" }, {}, {}];
      for (const extra of narrowings) {
        const reply = await send(url, route, { ...pinned, ...extra });
        servedOk(route, reply);
        expect(reply.headers.get("x-fleetgate-node")).toBe("node-fra");
      }
    });

    it("while an unpinned key's requests for the same model reach the other region too", async () => {
      const seen = new Set<string | null>();
      for (let i = 0; i < 4; i++) {
        const reply = await send(url, routeNamed("fast path POST /v1/chat/completions"), {
          authorization: `Bearer ${CONFIG_SECRET}`,
        });
        seen.add(reply.headers.get("x-fleetgate-node"));
      }
      expect([...seen].sort()).toEqual(["node-fra", "node-iad"]);
    });
  });
});

describe("a gateway without keys", () => {
  let open: TestFleet;
  beforeAll(async () => {
    open = await startFleet([{ model: "tiny" }]);
  });
  afterAll(() => open.close());

  it.each(ROUTES)("$name: serves calls that carry no key", async (route) => {
    servedOk(route, await send(open.gateway.url, route, {}));
  });

  it("refuses to issue a key that nothing would check: 409 auth_not_enforced", async () => {
    const reply = await admin(open.gateway.adminUrl, "POST", "/admin/keys", { tenant: "acme" });
    expectError(reply, 409, "auth_not_enforced", "invalid_request_error");
  });
});

describe("auth.required with nothing to authenticate against", () => {
  it("makes startGateway reject with a message that says what to configure", async () => {
    const config = buildConfig({ server: { host: "127.0.0.1", port: 0 }, auth: { required: true } });
    await expect(startGateway(config, silentLogger)).rejects.toThrow(
      /auth\.required is true but no key exists: configure auth\.keys, or an admin token/,
    );
  });
});
