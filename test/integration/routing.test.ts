import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch, postJson, startFleet, type TestFleet } from "../support/fleet.js";

interface Envelope {
  error: { code: string; param: string | null };
}

const system = { role: "system", content: `You are a patient assistant. ${"Context. ".repeat(200)}` };

describe("routing through the gateway", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet(
      [{ model: "tiny" }, { model: "tiny" }, { model: "tiny" }, { model: "eu-only" }],
      {
        nodeConfig: [{ region: "fra" }, { region: "iad" }, { region: "sin" }, { region: "ams" }],
        config: {
          location: { region: "fra" },
          routing: { residency: [{ client_regions: ["cdg"], node_regions: ["fra", "ams"] }] },
        },
      },
    );
  });
  afterAll(() => fleet.close());

  const chat = (body: object, headers: Record<string, string> = {}) =>
    postJson(`${fleet.baseURL}/chat/completions`, body, {
      headers: { "content-type": "application/json", ...headers },
    });

  it("sends every turn of a conversation back to the node that holds its prefix", async () => {
    const served = new Set<string>();
    const messages: object[] = [system, { role: "user", content: "First question?" }];
    let cached = 0;
    for (let turn = 0; turn < 4; turn++) {
      const response = await chat({ model: "tiny", messages, max_tokens: 4 });
      expect(response.status).toBe(200);
      served.add(response.headers.get("x-fleetgate-node") ?? "");
      const body = (await response.json()) as {
        choices: { message: { content: string } }[];
        usage: { prompt_tokens_details: { cached_tokens: number } };
      };
      cached = body.usage.prompt_tokens_details.cached_tokens;
      messages.push(body.choices[0]!.message, { role: "user", content: `Follow-up ${turn}?` });
    }
    expect(served.size).toBe(1);
    expect(cached).toBeGreaterThan(200);
  });

  it("sends a new conversation that opens with another's long document to the node that holds it", async () => {
    const document = {
      role: "user",
      content: `Read this report first. ${"Quarterly figures. ".repeat(300)}`,
    };
    const ask = async (question: string) => {
      const response = await chat({
        model: "tiny",
        messages: [system, document, { role: "user", content: question }],
        max_tokens: 2,
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { usage: { prompt_tokens_details: { cached_tokens: number } } };
      return {
        node: response.headers.get("x-fleetgate-node"),
        cached: body.usage.prompt_tokens_details.cached_tokens,
      };
    };
    const first = await ask("What was revenue?");
    const second = await ask("And what were the costs?");
    expect(second.node).toBe(first.node);
    expect(second.cached).toBeGreaterThan(1000);
  });

  it("says why it picked a node", async () => {
    const response = await chat({
      model: "tiny",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 1,
    });
    expect(response.headers.get("x-fleetgate-route")).toMatch(/^latency/);
  });

  it("keeps a request inside the regions its header allows", async () => {
    for (let i = 0; i < 4; i++) {
      const response = await chat(
        { model: "tiny", messages: [{ role: "user", content: `where ${i}` }], max_tokens: 1 },
        { "x-fleetgate-allowed-regions": "sin" },
      );
      expect(response.headers.get("x-fleetgate-node")).toBe("node-2");
    }
  });

  it("answers 503 rather than leave the allowed regions", async () => {
    const response = await chat(
      { model: "tiny", messages: [{ role: "user", content: "hi" }] },
      { "x-fleetgate-allowed-regions": "syd" },
    );
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBeTruthy();
    expect(((await response.json()) as Envelope).error.code).toBe("no_node_in_allowed_regions");
  });

  it("applies residency rules to clients by their declared region", async () => {
    for (let i = 0; i < 4; i++) {
      const response = await chat(
        { model: "tiny", messages: [{ role: "user", content: `eu ${i}` }], max_tokens: 1 },
        { "x-fleetgate-client-region": "cdg" },
      );
      expect(response.headers.get("x-fleetgate-node")).toBe("node-0");
    }
    const elsewhere = await chat(
      { model: "eu-only", messages: [{ role: "user", content: "x" }], max_tokens: 1 },
      { "x-fleetgate-client-region": "cdg" },
    );
    expect(elsewhere.headers.get("x-fleetgate-node")).toBe("node-3");
  });

  it("refuses malformed location headers, naming the header", async () => {
    const response = await chat(
      { model: "tiny", messages: [{ role: "user", content: "x" }] },
      { "x-fleetgate-client-location": "north" },
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as Envelope).error.param).toBe("x-fleetgate-client-location");
    const region = await chat(
      { model: "tiny", messages: [{ role: "user", content: "x" }] },
      { "x-fleetgate-allowed-regions": "atlantis" },
    );
    expect(((await region.json()) as Envelope).error.param).toBe("x-fleetgate-allowed-regions");
  });

  it("shows each node's live statistics to operators", async () => {
    const report = (await (await adminFetch(fleet.gateway.url, "/admin/nodes")).json()) as {
      nodes: { id: string; rtt_ms: number | null; ttft_ms: number | null; slots_total: number | null }[];
    };
    const first = report.nodes.find((node) => node.id === "node-0");
    expect(first?.rtt_ms).not.toBeNull();
    expect(first?.ttft_ms).not.toBeNull();
    expect(first?.slots_total).toBe(4);
  });
});
