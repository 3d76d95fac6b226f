import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startFleet, type TestFleet } from "../support/fleet.js";

interface Envelope {
  error: { message: string; type: string; code: string; param: string | null };
}

describe("errors reach clients in the OpenAI envelope", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny", nCtx: 256 }], {
      config: { server: { body_limit_bytes: 4096 } },
    });
  });
  afterAll(() => fleet.close());

  const chat = () => `${fleet.baseURL}/chat/completions`;

  async function expectEnvelope(response: Response, status: number, code: string): Promise<Envelope> {
    expect(response.status).toBe(status);
    const body = (await response.json()) as Envelope;
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe("string");
    expect(body.error).toHaveProperty("param");
    expect(response.headers.get("x-request-id")).toBeTruthy();
    return body;
  }

  it("rejects malformed JSON with 400 invalid_json", async () => {
    await expectEnvelope(await postJson(chat(), '{"model": "tiny", '), 400, "invalid_json");
  });

  it("names the offending field of a schema violation", async () => {
    const body = await expectEnvelope(
      await postJson(chat(), { model: "tiny", messages: [{ role: "wizard", content: "hi" }] }),
      400,
      "invalid_request",
    );
    expect(body.error.param).toBe("messages[0].role");
    const missing = await expectEnvelope(await postJson(chat(), { model: "tiny" }), 400, "invalid_request");
    expect(missing.error.param).toBe("messages");
  });

  it("refuses a body over the limit with 413, even without Content-Length", async () => {
    const huge = { model: "tiny", messages: [{ role: "user", content: "x".repeat(10_000) }] };
    await expectEnvelope(await postJson(chat(), huge), 413, "request_too_large");
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify(huge)));
        controller.close();
      },
    });
    const response = await fetch(chat(), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunked,
      duplex: "half",
    } as RequestInit);
    await expectEnvelope(response, 413, "request_too_large");
  });

  it("refuses a wrong content type with 415", async () => {
    const response = await fetch(chat(), {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    await expectEnvelope(response, 415, "unsupported_media_type");
  });

  it("answers 404 model_not_found for a model no healthy node serves", async () => {
    const body = await expectEnvelope(
      await postJson(chat(), { model: "gpt-9", messages: [{ role: "user", content: "hi" }] }),
      404,
      "model_not_found",
    );
    expect(body.error.param).toBe("model");
  });

  it("maps a node's own error onto a catalogue code, keeping its message and fields", async () => {
    const response = await postJson(chat(), {
      model: "tiny",
      messages: [{ role: "user", content: "word ".repeat(600) }],
      stream: true,
    });
    const body = await expectEnvelope(response, 400, "context_length_exceeded");
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toMatch(/exceeds the available context size/);
    expect(body.error).toMatchObject({ n_prompt_tokens: expect.any(Number), n_ctx: 256 });
    expect(response.headers.get("x-fleetgate-node")).toBe("node-0");
  });

  it("answers unknown routes with 404 route_not_found", async () => {
    await expectEnvelope(await fetch(`${fleet.baseURL}/nope`), 404, "route_not_found");
  });

  it("surfaces as typed errors in the official SDK", async () => {
    const client = new OpenAI({ baseURL: fleet.baseURL, apiKey: "x", maxRetries: 0 });
    const err = await client.chat.completions
      .create({ model: "gpt-9", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
  });
});

describe("a gateway with no healthy node", () => {
  it("answers 503 no_healthy_node with Retry-After and fails readiness", async () => {
    const fleet = await startFleet([{ model: "tiny" }]);
    try {
      fleet.sims[0]?.kill();
      for (let i = 0; i < 3; i++) await fleet.gateway.probeNow();
      const response = await postJson(`${fleet.baseURL}/chat/completions`, {
        model: "tiny",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("2");
      expect(((await response.json()) as Envelope).error.code).toBe("no_healthy_node");
      expect((await fetch(`${fleet.gateway.url}/readyz`)).status).toBe(503);
    } finally {
      await fleet.close();
    }
  });
});
