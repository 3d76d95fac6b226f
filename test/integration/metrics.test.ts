import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENAI_BUCKETS } from "../../src/telemetry/index.js";
import { adminFetch, postJson, startFleet, type TestFleet } from "../support/fleet.js";
import { parseScrape, type Scrape, select, total } from "../support/prometheus.js";

const messages = [{ role: "user" as const, content: "Count the nodes of the fleet." }];

async function scrape(fleet: TestFleet): Promise<Scrape> {
  const response = await adminFetch(fleet.gateway.url, "/metrics");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return parseScrape(await response.text());
}

describe("GET /metrics: GenAI and fleet metrics in Prometheus' format", () => {
  let fleet: TestFleet;
  let metrics: Scrape;
  const unary = 4;
  const streamed = 3;

  beforeAll(async () => {
    fleet = await startFleet(
      [
        { model: "tiny", slots: 4 },
        { model: "tiny", slots: 4 },
      ],
      {
        nodeConfig: [{ region: "fra" }, { region: "ams" }],
      },
    );
    for (let i = 0; i < unary; i++) {
      await fleet.client.chat.completions.create({ model: "tiny", messages, max_tokens: 5 });
    }
    for (let i = 0; i < streamed; i++) {
      const stream = await fleet.client.chat.completions.create({
        model: "tiny",
        messages,
        max_tokens: 6,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const _ of stream) {
        // drain
      }
    }
    // A model nobody serves: an operation that failed, before any node.
    const refused = await postJson(`${fleet.baseURL}/chat/completions`, { model: "made-up-model", messages });
    expect(refused.status).toBe(404);
    metrics = await scrape(fleet);
  });
  afterAll(() => fleet.close());

  it("counts every call once in gen_ai.client.operation.duration, in seconds with the advised buckets", () => {
    const family = metrics.meta.get("gen_ai_client_operation_duration");
    expect(family).toMatchObject({ type: "histogram", unit: "s" });
    const ok = {
      gen_ai_operation_name: "chat",
      gen_ai_provider_name: "llama_cpp",
      gen_ai_request_model: "tiny",
    };
    expect(total(metrics, "gen_ai_client_operation_duration_count", ok)).toBe(unary + streamed);
    expect(total(metrics, "gen_ai_client_operation_duration_count")).toBe(unary + streamed + 1);
    const bounds = select(metrics, "gen_ai_client_operation_duration_bucket", ok)
      .map((sample) => sample.labels.le)
      .filter((le, index, all) => all.indexOf(le) === index);
    expect(bounds).toEqual([...GENAI_BUCKETS.duration.map(String), "+Inf"]);
  });

  it("labels the node as server.address and server.port, and the failure by its code", () => {
    const served = select(metrics, "gen_ai_client_operation_duration_count", {
      gen_ai_request_model: "tiny",
    });
    for (const sample of served) {
      expect(sample.labels).toMatchObject({ server_address: "127.0.0.1" });
      expect(sample.labels.fleetgate_node_id).toMatch(/^node-[01]$/);
      expect(Number(sample.labels.server_port)).toBeGreaterThan(0);
      expect(sample.labels.error_type).toBeUndefined();
    }
    const failed = select(metrics, "gen_ai_client_operation_duration_count", {
      error_type: "model_not_found",
    });
    expect(failed).toHaveLength(1);
    // A model nobody serves is not a label value: a client could send any string.
    expect(failed[0]?.labels.gen_ai_request_model).toBeUndefined();
  });

  it("records token usage in {token} by gen_ai.token.type", () => {
    expect(metrics.meta.get("gen_ai_client_token_usage")).toMatchObject({
      type: "histogram",
      unit: "{token}",
    });
    expect(total(metrics, "gen_ai_client_token_usage_count", { gen_ai_token_type: "input" })).toBe(
      unary + streamed,
    );
    expect(total(metrics, "gen_ai_client_token_usage_count", { gen_ai_token_type: "output" })).toBe(
      unary + streamed,
    );
    expect(total(metrics, "gen_ai_client_token_usage_sum", { gen_ai_token_type: "output" })).toBe(
      unary * 5 + streamed * 6,
    );
    const top = select(metrics, "gen_ai_client_token_usage_bucket", { le: "67108864" });
    expect(top.length).toBeGreaterThan(0);
  });

  it("measures time to first token and per output token for the successful calls", () => {
    expect(metrics.meta.get("gen_ai_server_time_to_first_token")).toMatchObject({
      type: "histogram",
      unit: "s",
    });
    expect(total(metrics, "gen_ai_server_time_to_first_token_count")).toBe(unary + streamed);
    expect(
      select(metrics, "gen_ai_server_time_to_first_token_bucket", { le: "0.001" }).length,
    ).toBeGreaterThan(0);
    expect(metrics.meta.get("gen_ai_server_time_per_output_token")).toMatchObject({ unit: "s" });
    expect(total(metrics, "gen_ai_server_time_per_output_token_count")).toBe(unary + streamed);
    expect(
      select(metrics, "gen_ai_server_time_per_output_token_bucket", { le: "2.5" }).length,
    ).toBeGreaterThan(0);
  });

  it("shows every node's state, breaker, slots and load, and the admission queue", () => {
    for (const node of ["node-0", "node-1"]) {
      expect(total(metrics, "fleetgate_node_up", { node })).toBe(1);
      expect(total(metrics, "fleetgate_node_state", { node, state: "healthy" })).toBe(1);
      expect(total(metrics, "fleetgate_node_breaker_state", { node })).toBe(0);
      expect(total(metrics, "fleetgate_node_slots_total", { node })).toBe(4);
      expect(select(metrics, "fleetgate_node_slots_busy", { node })).toHaveLength(1);
      expect(total(metrics, "fleetgate_node_requests_in_flight", { node })).toBe(0);
      expect(select(metrics, "fleetgate_node_requests_deferred", { node })).toHaveLength(1);
    }
    expect(total(metrics, "fleetgate_admission_queue_depth")).toBe(0);
  });

  it("counts routed calls by reason and node, and attempts by result", () => {
    expect(metrics.meta.get("fleetgate_requests_routed_total")).toMatchObject({ type: "counter" });
    expect(total(metrics, "fleetgate_requests_routed_total")).toBe(unary + streamed);
    for (const sample of select(metrics, "fleetgate_requests_routed_total")) {
      expect(sample.labels.reason).toMatch(/^latency/);
    }
    expect(total(metrics, "fleetgate_node_attempts_total", { result: "ok" })).toBe(unary + streamed);
  });

  it("has no series for what nothing has happened to yet, and never a key or tenant label", () => {
    expect(select(metrics, "fleetgate_failovers_total")).toHaveLength(0);
    expect(select(metrics, "fleetgate_store_errors_total")).toHaveLength(0);
    for (const sample of metrics.samples) {
      expect(Object.keys(sample.labels)).not.toContain("tenant");
      expect(Object.keys(sample.labels)).not.toContain("key_id");
    }
  });
});

describe("who may read /metrics", () => {
  it("needs the admin token unless metrics.public", async () => {
    const locked = await startFleet([{ model: "tiny" }]);
    const open = await startFleet([{ model: "tiny" }], { config: { metrics: { public: true } } });
    try {
      expect((await fetch(`${locked.gateway.url}/metrics`)).status).toBe(401);
      const wrong = await fetch(`${locked.gateway.url}/metrics`, {
        headers: { authorization: "Bearer nope" },
      });
      expect(wrong.status).toBe(401);
      expect((await adminFetch(locked.gateway.url, "/metrics")).status).toBe(200);
      const anyone = await fetch(`${open.gateway.url}/metrics`);
      expect(anyone.status).toBe(200);
      expect(await anyone.text()).toContain("fleetgate_node_up");
    } finally {
      await Promise.all([locked.close(), open.close()]);
    }
  });

  it("is not there when metrics are off", async () => {
    const fleet = await startFleet([{ model: "tiny" }], { config: { metrics: { enabled: false } } });
    try {
      expect((await adminFetch(fleet.gateway.url, "/metrics")).status).toBe(404);
    } finally {
      await fleet.close();
    }
  });
});
