export { GENAI_BUCKETS } from "./instruments.js";
export {
  batchedLines,
  createLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
} from "./logger.js";
export type {
  AttemptResult,
  FleetReading,
  GatewayMetrics,
  GenAiOperation,
  NodeAddress,
  NodeReading,
  OperationRecord,
} from "./metrics.js";
export type { EnvVars } from "./otel-env.js";
export { type PrometheusScrape, startTelemetry, type Telemetry, type TelemetryOptions } from "./sdk.js";
export {
  type AttemptSpanRecord,
  type CallSpanRecord,
  type CallTrace,
  type CallTracer,
  passThroughTracer,
} from "./tracing.js";
