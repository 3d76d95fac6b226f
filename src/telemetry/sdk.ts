import { OTLPMetricExporter as JsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtobufMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, type Resource, resourceFromAttributes } from "@opentelemetry/resources";
import { type IMetricReader, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { createGatewayMetrics } from "./instruments.js";
import type { FleetReading, GatewayMetrics } from "./metrics.js";
import { type EnvVars, type OtelSettings, type OtlpSignal, otelSettings } from "./otel-env.js";
import { type CallTracer, otelCallTracer, passThroughTracer } from "./tracing.js";

const SCOPE = "fleetgate";

export interface TelemetryOptions {
  /** The OTEL_* variables (the composition root passes the process environment). */
  readonly env: EnvVars;
  /** Measure at all; off, there are no instruments, no /metrics and no metrics export. */
  readonly metrics: boolean;
  /** The fleet as it is now, read when metrics are collected. */
  readonly fleet: () => FleetReading;
}

/** The Prometheus text exposition of every instrument, for `GET /metrics`. */
export interface PrometheusScrape {
  readonly contentType: string;
  scrape(): Promise<string>;
}

export interface Telemetry {
  /** Undefined when metrics are off. */
  readonly metrics: GatewayMetrics | undefined;
  readonly prometheus: PrometheusScrape | undefined;
  readonly tracer: CallTracer;
  /** Where OTLP goes, for the start-up log line; undefined for a signal not exported. */
  readonly exporting: { readonly traces: string | undefined; readonly metrics: string | undefined };
  /** Sends what is still buffered and stops the exporters. */
  shutdown(): Promise<void>;
}

/**
 * Builds this gateway's own meter and tracer providers. They are not registered as the process's
 * global providers, so several gateways in one process (tests, a bench) each keep their own, and
 * no library's instrumentation reports through them unasked. OTLP export happens only when the
 * environment names an endpoint; Prometheus is served by the gateway itself.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const settings = otelSettings(options.env);
  const resource = defaultResource().merge(resourceFromAttributes(settings.resource));
  const meters = options.metrics ? meterProvider(settings, resource, options.fleet) : undefined;
  const tracing = settings.traces ? tracerProvider(settings, settings.traces, resource) : undefined;
  return {
    metrics: meters?.metrics,
    prometheus: meters?.prometheus,
    tracer: tracing ? otelCallTracer(tracing.getTracer(SCOPE)) : passThroughTracer,
    exporting: { traces: settings.traces?.url, metrics: meters && settings.metrics?.url },
    async shutdown() {
      await Promise.all([meters?.provider.shutdown(), tracing?.shutdown()]);
    },
  };
}

function meterProvider(settings: OtelSettings, resource: Resource, fleet: () => FleetReading) {
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  // One scope, one service: the scope label on every series would be noise.
  const serializer = new PrometheusSerializer("", false, undefined, false, true);
  const readers: IMetricReader[] = [prometheus];
  if (settings.metrics) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: metricExporter(settings.metrics),
        exportIntervalMillis: settings.metrics.intervalMs,
        exportTimeoutMillis: Math.min(settings.metrics.intervalMs, settings.metrics.timeoutMs ?? 30_000),
      }),
    );
  }
  const provider = new MeterProvider({ resource, readers });
  return {
    provider,
    metrics: createGatewayMetrics(provider.getMeter(SCOPE), fleet),
    prometheus: {
      contentType: "text/plain; version=0.0.4; charset=utf-8",
      async scrape() {
        const { resourceMetrics } = await prometheus.collect();
        return serializer.serialize(resourceMetrics);
      },
    },
  };
}

function tracerProvider(settings: OtelSettings, traces: OtlpSignal, resource: Resource): TracerProvider {
  const exporter =
    traces.protocol === "http/json"
      ? new JsonTraceExporter(exporterConfig(traces))
      : new ProtobufTraceExporter(exporterConfig(traces));
  return new TracerProvider({
    resource,
    sampler: sampler(settings.sampler),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        ...(settings.spanDelayMs === undefined ? {} : { scheduledDelayMillis: settings.spanDelayMs }),
      }),
    ],
  });
}

function metricExporter(signal: OtlpSignal) {
  return signal.protocol === "http/json"
    ? new JsonMetricExporter(exporterConfig(signal))
    : new ProtobufMetricExporter(exporterConfig(signal));
}

function exporterConfig(signal: OtlpSignal) {
  return {
    url: signal.url,
    headers: { ...signal.headers },
    ...(signal.timeoutMs === undefined ? {} : { timeoutMillis: signal.timeoutMs }),
  };
}

function sampler({ name, ratio }: OtelSettings["sampler"]): Sampler {
  const root = (base: string): Sampler => {
    if (base === "always_off") return new AlwaysOffSampler();
    if (base === "traceidratio") return new TraceIdRatioBasedSampler(ratio);
    return new AlwaysOnSampler();
  };
  return name.startsWith("parentbased_")
    ? new ParentBasedSampler({ root: root(name.slice("parentbased_".length)) })
    : root(name);
}
