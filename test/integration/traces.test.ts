import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, postJson, startFleet, type TestFleet } from "../support/fleet.js";

/** OTLP/JSON as much of it as the test reads: resource → scope → spans, attributes as key/value. */
interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface TracesRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

const SERVER = 2;
const CLIENT = 3;

/** A small OTLP/HTTP receiver: keeps every request body by path, with its content type. */
class Collector {
  readonly received: { path: string; type: string; body: Buffer }[] = [];
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        this.received.push({
          path: req.url ?? "",
          type: req.headers["content-type"] ?? "",
          body: Buffer.concat(chunks),
        });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  spans(): OtlpSpan[] {
    return this.received
      .filter((request) => request.path === "/v1/traces" && request.type.includes("json"))
      .flatMap((request) => (JSON.parse(request.body.toString()) as TracesRequest).resourceSpans)
      .flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }
}

function attribute(span: OtlpSpan | undefined, key: string): string | number | boolean | undefined {
  const value = span?.attributes.find((entry) => entry.key === key)?.value;
  if (!value) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}

const CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
const messages = [{ role: "user", content: "Which node answered?" }];

describe("traces reach an OTLP collector", () => {
  const collector = new Collector();
  let fleet: TestFleet;

  beforeAll(async () => {
    await collector.start();
    fleet = await startFleet([{ model: "tiny" }], {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_BSP_SCHEDULE_DELAY: "20",
        OTEL_METRIC_EXPORT_INTERVAL: "100",
        OTEL_SERVICE_NAME: "fleetgate-under-test",
      },
    });
  });
  afterAll(async () => {
    await fleet.close();
    await collector.close();
  });

  it("makes the call's span a child of the client's, with a child span per node attempt", async () => {
    const response = await postJson(
      `${fleet.baseURL}/chat/completions`,
      { model: "tiny", messages, max_tokens: 4 },
      {
        headers: {
          "content-type": "application/json",
          traceparent: CLIENT_TRACEPARENT,
          "x-request-id": "traced-1",
        },
      },
    );
    expect(response.status).toBe(200);
    const returned = response.headers.get("traceparent") ?? "";
    const [, traceId, spanId, flags] = returned.split("-");
    expect(traceId).toBe(CLIENT_TRACE);
    expect(spanId).not.toBe(CLIENT_SPAN);
    expect(flags).toBe("01");
    // The node got the gateway's span as its parent.
    expect(fleet.sims[0]?.stats().lastRequestHeaders?.traceparent).toBe(returned);

    await eventually(() => collector.spans().some((span) => span.kind === CLIENT), 5000);
    const spans = collector.spans().filter((span) => span.traceId === CLIENT_TRACE);
    const call = spans.find((span) => span.kind === SERVER);
    expect(call).toMatchObject({ spanId, parentSpanId: CLIENT_SPAN, name: "chat tiny" });
    expect(attribute(call, "gen_ai.operation.name")).toBe("chat");
    expect(attribute(call, "gen_ai.provider.name")).toBe("llama_cpp");
    expect(attribute(call, "gen_ai.request.model")).toBe("tiny");
    expect(attribute(call, "http.response.status_code")).toBe(200);
    expect(attribute(call, "fleetgate.request_id")).toBe("traced-1");
    expect(attribute(call, "fleetgate.node.id")).toBe("node-0");
    expect(attribute(call, "gen_ai.usage.output_tokens")).toBe(4);
    const attempt = spans.find((span) => span.kind === CLIENT);
    expect(attempt).toMatchObject({ parentSpanId: spanId, name: "attempt node-0" });
    expect(attribute(attempt, "fleetgate.node.id")).toBe("node-0");
    expect(attribute(attempt, "server.address")).toBe("127.0.0.1");
    expect(attribute(attempt, "fleetgate.attempt.result")).toBe("ok");
    expect(attribute(attempt, "fleetgate.ttft_ms")).toBeGreaterThanOrEqual(0);
  });

  it("starts a trace for a client without one, and returns it on a stream too", async () => {
    const response = await postJson(`${fleet.baseURL}/chat/completions`, {
      model: "tiny",
      messages,
      max_tokens: 3,
      stream: true,
    });
    await response.text();
    const returned = response.headers.get("traceparent") ?? "";
    expect(returned).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(fleet.sims[0]?.stats().lastRequestHeaders?.traceparent).toBe(returned);
    const traceId = returned.split("-")[1];
    expect(await eventually(() => collector.spans().some((span) => span.traceId === traceId), 5000)).toBe(
      true,
    );
    const call = collector.spans().find((span) => span.traceId === traceId && span.kind === SERVER);
    expect(call?.parentSpanId ?? "").toBe("");
    expect(attribute(call, "fleetgate.stream")).toBe(true);
  });

  it("marks a failed call's span with error.type", async () => {
    const response = await postJson(`${fleet.baseURL}/chat/completions`, {
      model: "nobody-serves",
      messages,
    });
    expect(response.status).toBe(404);
    const traceId = (response.headers.get("traceparent") ?? "").split("-")[1];
    expect(await eventually(() => collector.spans().some((span) => span.traceId === traceId), 5000)).toBe(
      true,
    );
    const call = collector.spans().find((span) => span.traceId === traceId);
    expect(attribute(call, "error.type")).toBe("model_not_found");
    expect(call?.status?.code).toBe(2);
  });

  it("returns the trace context on refusals and model listings as well", async () => {
    const headers = { traceparent: CLIENT_TRACEPARENT };
    const missing = await fetch(`${fleet.baseURL}/models/nobody-serves`, { headers });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("traceparent")?.split("-")[1]).toBe(CLIENT_TRACE);
    const listing = await fetch(`${fleet.baseURL}/models`, { headers });
    expect(listing.status).toBe(200);
    expect(listing.headers.get("traceparent")?.split("-")[1]).toBe(CLIENT_TRACE);
    const notJson = await postJson(`${fleet.baseURL}/chat/completions`, "{", {
      headers: { "content-type": "application/json", ...headers },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get("traceparent")?.split("-")[1]).toBe(CLIENT_TRACE);
  });

  it("records nothing for a client that did not sample its trace, and says so onward", async () => {
    const unsampled = `00-${"ab".repeat(16)}-${CLIENT_SPAN}-00`;
    const response = await postJson(
      `${fleet.baseURL}/chat/completions`,
      { model: "tiny", messages },
      {
        headers: { "content-type": "application/json", traceparent: unsampled },
      },
    );
    expect(response.headers.get("traceparent")).toMatch(
      new RegExp(`^00-${"ab".repeat(16)}-[0-9a-f]{16}-00$`),
    );
    expect(fleet.sims[0]?.stats().lastRequestHeaders?.traceparent).toBe(response.headers.get("traceparent"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(collector.spans().some((span) => span.traceId === "ab".repeat(16))).toBe(false);
  });

  it("exports the metrics over OTLP as well, under the configured service name", async () => {
    expect(
      await eventually(() => collector.received.some((request) => request.path === "/v1/metrics"), 5000),
    ).toBe(true);
    const body = collector.received.find((request) => request.path === "/v1/metrics")?.body.toString() ?? "";
    expect(body).toContain("fleetgate-under-test");
    expect(body).toContain("fleetgate.node.up");
  });
});

describe("OTLP's default protocol and no OTLP at all", () => {
  it("sends protobuf when no protocol is named", async () => {
    const collector = new Collector();
    await collector.start();
    const fleet = await startFleet([{ model: "tiny" }], {
      env: {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
        OTEL_BSP_SCHEDULE_DELAY: "20",
      },
    });
    try {
      await fleet.client.chat.completions.create({
        model: "tiny",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(await eventually(() => collector.received.length > 0, 5000)).toBe(true);
      expect(collector.received[0]).toMatchObject({ path: "/v1/traces", type: "application/x-protobuf" });
      // Only traces were asked for: no metrics go anywhere.
      expect(collector.received.some((request) => request.path.includes("metrics"))).toBe(false);
    } finally {
      await fleet.close();
      await collector.close();
    }
  });

  it("without an endpoint exports nothing, and passes a valid client traceparent through unchanged", async () => {
    const fleet = await startFleet([{ model: "tiny" }]);
    try {
      const headers = { "content-type": "application/json" };
      const traced = await postJson(
        `${fleet.baseURL}/chat/completions`,
        { model: "tiny", messages },
        {
          headers: { ...headers, traceparent: CLIENT_TRACEPARENT },
        },
      );
      expect(traced.headers.get("traceparent")).toBe(CLIENT_TRACEPARENT);
      expect(fleet.sims[0]?.stats().lastRequestHeaders?.traceparent).toBe(CLIENT_TRACEPARENT);
      const garbled = await postJson(
        `${fleet.baseURL}/chat/completions`,
        { model: "tiny", messages },
        {
          headers: { ...headers, traceparent: "00-not-a-trace-01" },
        },
      );
      expect(garbled.headers.get("traceparent")).toBeNull();
      expect(fleet.sims[0]?.stats().lastRequestHeaders?.traceparent).toBeUndefined();
    } finally {
      await fleet.close();
    }
  });
});
