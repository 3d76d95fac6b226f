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
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace";
import { createGatewayMetrics } from "./instruments.js";
import type { FleetReading, GatewayMetrics } from "./metrics.js";
import { type EnvVars, type OtelSettings, type OtlpSignal, otelSettings } from "./otel-env.js";
import { type CallTracer, otelCallTracer, passThroughTracer } from "./tracing.js";

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
 * Builds this gateway's own metrics and span pipeline. Nothing is registered as the process's
 * global provider, so several gateways in one process (tests, a bench) each keep their own, and
 * no library's instrumentation reports through them unasked. OTLP export happens only when the
 * environment names an endpoint; Prometheus is served by the gateway itself.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const settings = otelSettings(options.env);
  const resource = defaultResource().merge(resourceFromAttributes(settings.resource));
  const meters = options.metrics ? meterProvider(settings, resource, options.fleet) : undefined;
  const spans = settings.traces ? spanProcessor(settings, settings.traces) : undefined;
  return {
    metrics: meters?.metrics,
    prometheus: meters?.prometheus,
    tracer: spans
      ? otelCallTracer({ processor: spans, sampler: sampler(settings.sampler), resource })
      : passThroughTracer,
    exporting: { traces: settings.traces?.url, metrics: meters && settings.metrics?.url },
    async shutdown() {
      // A collector that is down at the end loses the last batch; it must not fail the gateway's close.
      await Promise.allSettled([meters?.provider.shutdown(), spans?.shutdown()]);
    },
  };
}

/**
 * The readers (Prometheus, and the OTLP exporter when asked for) collect from the gateway's own
 * producer; the provider contributes the resource and the collection machinery.
 */
function meterProvider(settings: OtelSettings, resource: Resource, fleet: () => FleetReading) {
  const { metrics, producer } = createGatewayMetrics(fleet);
  const prometheus = new PrometheusExporter({ preventServerStart: true, metricProducers: [producer] });
  // One scope, one service: the scope label on every series would be noise.
  const serializer = new PrometheusSerializer("", false, undefined, false, true);
  const readers: IMetricReader[] = [prometheus];
  if (settings.metrics) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: metricExporter(settings.metrics),
        exportIntervalMillis: settings.metrics.intervalMs,
        exportTimeoutMillis: Math.min(settings.metrics.intervalMs, settings.metrics.timeoutMs ?? 30_000),
        metricProducers: [producer],
      }),
    );
  }
  const provider = new MeterProvider({ resource, readers });
  return {
    provider,
    metrics,
    prometheus: {
      contentType: "text/plain; version=0.0.4; charset=utf-8",
      async scrape() {
        const { resourceMetrics } = await prometheus.collect();
        return serializer.serialize(resourceMetrics);
      },
    },
  };
}

function spanProcessor(settings: OtelSettings, traces: OtlpSignal): SpanProcessor {
  const exporter =
    traces.protocol === "http/json"
      ? new JsonTraceExporter(exporterConfig(traces))
      : new ProtobufTraceExporter(exporterConfig(traces));
  const { delayMs, exportSize, queueSize } = settings.spanBatch;
  return new BatchSpanProcessor({
    exporter,
    ...(delayMs === undefined ? {} : { scheduledDelayMillis: delayMs }),
    ...(exportSize === undefined ? {} : { maxExportBatchSize: exportSize }),
    ...(queueSize === undefined ? {} : { maxQueueSize: Math.max(queueSize, exportSize ?? 0) }),
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
