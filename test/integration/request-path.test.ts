import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFleet, type TestFleet } from "../support/fleet.js";

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly json: Record<string, unknown>;
}

/** node:http sends the path byte for byte; fetch and URL would normalise it first. */
function send(base: string, method: "GET" | "POST", path: string, body?: unknown): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, method, path, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            json: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe("request paths are normalised before routing", () => {
  let fleet: TestFleet;
  let get: (path: string) => Promise<RawResponse>;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }]);
    get = (path) => send(fleet.gateway.url, "GET", path);
  });
  afterAll(() => fleet.close());

  it("resolves dot segments, encoded or not", async () => {
    const models = await get("/v1/../v1/models");
    expect(models.status).toBe(200);
    expect(models.json.object).toBe("list");
    const health = await get("/v1/models/%2e%2e/%2e%2e/healthz");
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: "ok" });
  });

  it("decodes unreserved escapes, in the route and in its parameters", async () => {
    const models = await get("/%761/models");
    expect(models.status).toBe(200);
    expect(models.json.object).toBe("list");
    const model = await get("/v1/models/%74iny");
    expect(model.status).toBe(200);
    expect(model.json.id).toBe("tiny");
  });

  it("serves a proxied POST with a doubled slash on the fast path", async () => {
    const reply = await send(fleet.gateway.url, "POST", "/v1//chat/completions", {
      model: "tiny",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 3,
    });
    expect(reply.status).toBe(200);
    expect(reply.json.object).toBe("chat.completion");
    expect(reply.headers["x-fleetgate-node"]).toBe("node-0");
  });

  it("answers a bad escape with 400 invalid_path in the OpenAI envelope", async () => {
    const reply = await get("/%zz");
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatchObject({ code: "invalid_path", type: "invalid_request_error" });
    expect(reply.headers["x-request-id"]).toBeTruthy();
  });

  it("routes every spelling of the admin path to the /admin/nodes handler", async () => {
    const summary = (reply: RawResponse) => {
      const nodes = reply.json.nodes as Array<{ id: string }> | undefined;
      const error = reply.json.error as { code: string } | undefined;
      return { status: reply.status, nodes: nodes?.map((node) => node.id), error: error?.code };
    };
    const direct = summary(await get("/admin/nodes"));
    expect(direct.status).not.toBe(404);
    for (const spelling of [
      "/v1/models/%2e%2e/%2e%2e/admin/nodes",
      "/%61dmin/nodes",
      "/v1/../admin//nodes",
    ]) {
      expect(summary(await get(spelling))).toEqual(direct);
    }
  });
});
