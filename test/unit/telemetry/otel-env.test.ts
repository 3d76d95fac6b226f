import { describe, expect, it } from "vitest";
import { otelSettings } from "../../../src/telemetry/otel-env.js";

describe("the OTEL_* variables", () => {
  it("export nothing without an endpoint", () => {
    const settings = otelSettings({});
    expect(settings.traces).toBeUndefined();
    expect(settings.metrics).toBeUndefined();
    expect(settings.resource).toEqual({ "service.name": "fleetgate" });
    expect(settings.sampler).toEqual({ name: "parentbased_always_on", ratio: 1 });
  });

  it("append each signal's path to the shared endpoint, over http/protobuf by default", () => {
    const settings = otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" });
    expect(settings.traces).toEqual({
      url: "http://collector:4318/v1/traces",
      protocol: "http/protobuf",
      headers: {},
      timeoutMs: undefined,
    });
    expect(settings.metrics).toMatchObject({ url: "http://collector:4318/v1/metrics", intervalMs: 60_000 });
  });

  it("use a signal's own endpoint, protocol, headers and timeout as given", () => {
    const settings = otelSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://shared:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20t0k,x-tenant=a",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-tenant=b",
      OTEL_EXPORTER_OTLP_TIMEOUT: "2000",
      OTEL_METRIC_EXPORT_INTERVAL: "5000",
    });
    expect(settings.traces).toEqual({
      url: "http://traces:9999/custom",
      protocol: "http/json",
      headers: { authorization: "Bearer t0k", "x-tenant": "b" },
      timeoutMs: 2000,
    });
    expect(settings.metrics).toMatchObject({
      url: "http://shared:4318/v1/metrics",
      protocol: "http/protobuf",
      headers: { authorization: "Bearer t0k", "x-tenant": "a" },
      intervalMs: 5000,
    });
  });

  it("turn a signal off with OTEL_<SIGNAL>_EXPORTER=none, and everything with OTEL_SDK_DISABLED", () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };
    const noTraces = otelSettings({ ...endpoint, OTEL_TRACES_EXPORTER: "none" });
    expect(noTraces.traces).toBeUndefined();
    expect(noTraces.metrics).toBeDefined();
    expect(otelSettings({ ...endpoint, OTEL_METRICS_EXPORTER: "prometheus" }).metrics).toBeUndefined();
    const disabled = otelSettings({ ...endpoint, OTEL_SDK_DISABLED: "true" });
    expect(disabled.traces).toBeUndefined();
    expect(disabled.metrics).toBeUndefined();
  });

  it("name the service from OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES", () => {
    const settings = otelSettings({
      OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attributes,deployment.environment=prod",
      OTEL_SERVICE_NAME: "edge-gateway",
    });
    expect(settings.resource).toEqual({ "service.name": "edge-gateway", "deployment.environment": "prod" });
  });

  it("read the sampler and its ratio", () => {
    expect(
      otelSettings({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" }).sampler,
    ).toEqual({
      name: "traceidratio",
      ratio: 0.25,
    });
  });

  it("read the span batch settings", () => {
    expect(otelSettings({}).spanBatch).toEqual({
      delayMs: undefined,
      exportSize: undefined,
      queueSize: undefined,
    });
    expect(
      otelSettings({
        OTEL_BSP_SCHEDULE_DELAY: "200",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "1024",
        OTEL_BSP_MAX_QUEUE_SIZE: "4096",
      }).spanBatch,
    ).toEqual({ delayMs: 200, exportSize: 1024, queueSize: 4096 });
  });

  it("stop the gateway at start on a value it cannot honour, naming the variable", () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };
    expect(() => otelSettings({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' is not supported/,
    );
    expect(() => otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" })).toThrow(/not a URL/);
    expect(() => otelSettings({ OTEL_TRACES_SAMPLER: "sometimes" })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => otelSettings({ OTEL_TRACES_SAMPLER_ARG: "2" })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => otelSettings({ OTEL_BSP_SCHEDULE_DELAY: "soon" })).toThrow(/OTEL_BSP_SCHEDULE_DELAY/);
  });
});
