import { parseKeyPairsIntoRecord } from "@opentelemetry/core";

/** The process environment as the composition root hands it over: nothing here reads process.env. */
export type EnvVars = Readonly<Record<string, string | undefined>>;

export type OtlpProtocol = "http/protobuf" | "http/json";

/** Where one signal (traces or metrics) is exported to, over OTLP/HTTP. */
export interface OtlpSignal {
  readonly url: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number | undefined;
}

export type SamplerName =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio";

/** What the standard OTEL_* variables ask for; a signal without an endpoint is not exported at all. */
export interface OtelSettings {
  readonly traces: OtlpSignal | undefined;
  readonly metrics: (OtlpSignal & { readonly intervalMs: number }) | undefined;
  /** OTEL_RESOURCE_ATTRIBUTES with OTEL_SERVICE_NAME over it; `service.name` defaults to fleetgate. */
  readonly resource: Readonly<Record<string, string>>;
  readonly sampler: { readonly name: SamplerName; readonly ratio: number };
  /** OTEL_BSP_*: how long finished spans wait to be sent, how many go in one export, how many may wait. */
  readonly spanBatch: {
    readonly delayMs: number | undefined;
    readonly exportSize: number | undefined;
    readonly queueSize: number | undefined;
  };
}

const SIGNALS = { traces: "TRACES", metrics: "METRICS" } as const;
const SAMPLERS: readonly SamplerName[] = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
];
const DEFAULT_METRIC_INTERVAL_MS = 60_000;

/**
 * Reads the variables of the OpenTelemetry SDK specification that fleetgate honours. A bad value
 * stops the gateway at start, naming the variable, instead of exporting nowhere in silence.
 */
export function otelSettings(env: EnvVars): OtelSettings {
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true";
  const metrics = disabled ? undefined : signal(env, "metrics");
  return {
    traces: disabled ? undefined : signal(env, "traces"),
    metrics: metrics && {
      ...metrics,
      intervalMs: wholeNumber(env, "OTEL_METRIC_EXPORT_INTERVAL") ?? DEFAULT_METRIC_INTERVAL_MS,
    },
    resource: resourceAttributes(env),
    sampler: sampler(env),
    spanBatch: {
      delayMs: wholeNumber(env, "OTEL_BSP_SCHEDULE_DELAY"),
      exportSize: wholeNumber(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
      queueSize: wholeNumber(env, "OTEL_BSP_MAX_QUEUE_SIZE"),
    },
  };
}

function signal(env: EnvVars, name: keyof typeof SIGNALS): OtlpSignal | undefined {
  const upper = SIGNALS[name];
  const exporters = (env[`OTEL_${upper}_EXPORTER`] ?? "otlp").split(",").map((part) => part.trim());
  if (!exporters.includes("otlp")) return undefined;
  const specific = env[`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`];
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  // The signal's own endpoint is used as given; the shared one gets the signal's path appended.
  const url = specific || (base ? `${base.replace(/\/+$/, "")}/v1/${name}` : undefined);
  if (!url) return undefined;
  if (!URL.canParse(url)) throw new Error(`OTLP ${name} endpoint is not a URL: '${url}'`);
  return {
    url,
    protocol: protocol(env, upper),
    headers: {
      ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_HEADERS),
      ...parseKeyPairsIntoRecord(env[`OTEL_EXPORTER_OTLP_${upper}_HEADERS`]),
    },
    timeoutMs:
      wholeNumber(env, `OTEL_EXPORTER_OTLP_${upper}_TIMEOUT`) ??
      wholeNumber(env, "OTEL_EXPORTER_OTLP_TIMEOUT"),
  };
}

function protocol(env: EnvVars, upper: string): OtlpProtocol {
  const variable = env[`OTEL_EXPORTER_OTLP_${upper}_PROTOCOL`]
    ? `OTEL_EXPORTER_OTLP_${upper}_PROTOCOL`
    : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const value = env[variable]?.trim() || "http/protobuf";
  if (value === "http/protobuf" || value === "http/json") return value;
  throw new Error(`${variable}: '${value}' is not supported, use http/protobuf or http/json`);
}

function resourceAttributes(env: EnvVars): Record<string, string> {
  const attributes: Record<string, string> = {
    "service.name": "fleetgate",
    ...parseKeyPairsIntoRecord(env.OTEL_RESOURCE_ATTRIBUTES),
  };
  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  if (serviceName) attributes["service.name"] = serviceName;
  return attributes;
}

function sampler(env: EnvVars): OtelSettings["sampler"] {
  const value = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || "parentbased_always_on";
  const name = SAMPLERS.find((known) => known === value);
  if (!name) throw new Error(`OTEL_TRACES_SAMPLER: '${value}' is not one of ${SAMPLERS.join(", ")}`);
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = arg ? Number(arg) : 1;
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new Error(`OTEL_TRACES_SAMPLER_ARG: '${arg}' is not a ratio between 0 and 1`);
  }
  return { name, ratio };
}

/** A whole number (of milliseconds, or of spans), or undefined when the variable is not set. */
function wholeNumber(env: EnvVars, variable: string): number | undefined {
  const text = env[variable]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${variable}: '${text}' is not a whole number`);
  return value;
}
