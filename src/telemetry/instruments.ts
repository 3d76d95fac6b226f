import type { Attributes, Meter } from "@opentelemetry/api";
import type { FleetReading, GatewayMetrics, OperationRecord } from "./metrics.js";

/**
 * The bucket boundaries the GenAI semantic conventions advise (semantic-conventions v1.41.0,
 * docs/gen-ai/gen-ai-metrics.md). The SDK's defaults are meant for milliseconds and would put
 * every call of a second or less in the first bucket or two.
 */
export const GENAI_BUCKETS = {
  tokens: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
  duration: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
  ttft: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  timePerOutputToken: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5],
} as const;

/** Admission waits run from nothing to the queue timeout (10 s by default). */
const ADMISSION_WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** No llama.cpp value is listed among the conventions' providers; this is the custom one. */
export const PROVIDER_NAME = "llama_cpp";

const BREAKER_VALUE = { closed: 0, open: 1, "half-open": 2 } as const;

/**
 * The OpenTelemetry side of GatewayMetrics: the four GenAI histograms plus fleetgate's own
 * counters, and gauges read from the fleet when a collection asks (a scrape or an OTLP export),
 * so node state costs nothing per request. Labels are bounded: node ids, catalogue codes, route
 * reasons and served models; never a key, a tenant or a request id.
 */
export function createGatewayMetrics(meter: Meter, fleet: () => FleetReading): GatewayMetrics {
  const histogram = (name: string, unit: string, description: string, buckets: readonly number[]) =>
    meter.createHistogram(name, { unit, description, advice: { explicitBucketBoundaries: [...buckets] } });
  const tokens = histogram(
    "gen_ai.client.token.usage",
    "{token}",
    "Number of input and output tokens used.",
    GENAI_BUCKETS.tokens,
  );
  const duration = histogram(
    "gen_ai.client.operation.duration",
    "s",
    "GenAI operation duration.",
    GENAI_BUCKETS.duration,
  );
  const ttft = histogram(
    "gen_ai.server.time_to_first_token",
    "s",
    "Time to generate first token for successful responses.",
    GENAI_BUCKETS.ttft,
  );
  const perToken = histogram(
    "gen_ai.server.time_per_output_token",
    "s",
    "Time per output token generated after the first token for successful responses.",
    GENAI_BUCKETS.timePerOutputToken,
  );
  const admissionWait = histogram(
    "fleetgate.admission.wait.duration",
    "s",
    "Time calls waited in the admission queue for a node with capacity.",
    ADMISSION_WAIT_BUCKETS,
  );
  const counter = (name: string, unit: string, description: string) =>
    meter.createCounter(name, { unit, description });
  const attempts = counter("fleetgate.node.attempts", "{attempt}", "Tries of calls on nodes, by result.");
  const routed = counter("fleetgate.requests.routed", "{request}", "Calls routed, by first node and reason.");
  const failovers = counter(
    "fleetgate.failovers",
    "{failover}",
    "Calls moved to another node before the first byte.",
  );
  const continuations = counter(
    "fleetgate.continuations",
    "{continuation}",
    "Broken streams picked up by another node.",
  );
  const hedges = counter("fleetgate.hedges", "{hedge}", "Second nodes raced against a slow first token.");
  const storeErrors = counter("fleetgate.store.errors", "{error}", "Failed state store operations.");
  observeFleet(meter, fleet);

  return {
    operation(record) {
      const base = operationAttributes(record);
      duration.record(record.durationS, base);
      if (record.ttftS !== undefined) ttft.record(record.ttftS, base);
      if (record.timePerOutputTokenS !== undefined) perToken.record(record.timePerOutputTokenS, base);
      if (record.inputTokens !== undefined) {
        tokens.record(record.inputTokens, { ...base, "gen_ai.token.type": "input" });
      }
      if (record.outputTokens !== undefined) {
        tokens.record(record.outputTokens, { ...base, "gen_ai.token.type": "output" });
      }
    },
    attempt(node, result, errorType) {
      attempts.add(1, errorType === undefined ? { node, result } : { node, result, "error.type": errorType });
    },
    routed: (node, reason) => routed.add(1, { node, reason }),
    failover: (fromNode) => failovers.add(1, { node: fromNode }),
    continuation: (node) => continuations.add(1, { node }),
    hedge: (won) => hedges.add(1, { result: won ? "won" : "lost" }),
    admissionWait(seconds, errorType) {
      admissionWait.record(seconds, errorType === undefined ? {} : { "error.type": errorType });
    },
    storeError: (operation) => storeErrors.add(1, { operation }),
  };
}

function operationAttributes(record: OperationRecord): Attributes {
  const attributes: Attributes = {
    "gen_ai.operation.name": record.operation,
    "gen_ai.provider.name": PROVIDER_NAME,
  };
  if (record.model !== undefined) attributes["gen_ai.request.model"] = record.model;
  if (record.node) {
    attributes["server.address"] = record.node.address;
    attributes["server.port"] = record.node.port;
    attributes["fleetgate.node.id"] = record.node.id;
  }
  if (record.errorType !== undefined) attributes["error.type"] = record.errorType;
  return attributes;
}

/** Per-node and queue gauges, all from one reading of the fleet per collection. */
function observeFleet(meter: Meter, fleet: () => FleetReading): void {
  const gauge = (name: string, unit: string, description: string) =>
    meter.createObservableGauge(name, { unit, description });
  const up = gauge("fleetgate.node.up", "1", "1 when the node takes calls: healthy, breaker not open.");
  const state = gauge("fleetgate.node.state", "1", "1 for the node's current health state.");
  const breaker = gauge(
    "fleetgate.node.breaker.state",
    "1",
    "The node's breaker: 0 closed, 1 open, 2 half-open.",
  );
  const inFlight = gauge("fleetgate.node.requests.in_flight", "{request}", "Calls on the node now.");
  const slotsTotal = gauge("fleetgate.node.slots.total", "{slot}", "The node's slots (parallel sequences).");
  const slotsBusy = gauge("fleetgate.node.slots.busy", "{slot}", "The node's slots processing now.");
  const deferred = gauge("fleetgate.node.requests.deferred", "{request}", "Requests queued inside the node.");
  const queue = gauge(
    "fleetgate.admission.queue.depth",
    "{request}",
    "Calls waiting for a node with capacity.",
  );
  meter.addBatchObservableCallback(
    (result) => {
      const reading = fleet();
      for (const node of reading.nodes) {
        const attributes = { node: node.id };
        result.observe(up, node.up ? 1 : 0, attributes);
        result.observe(state, 1, { node: node.id, state: node.state });
        result.observe(breaker, BREAKER_VALUE[node.breaker], attributes);
        result.observe(inFlight, node.inFlight, attributes);
        if (node.slotsTotal !== undefined) result.observe(slotsTotal, node.slotsTotal, attributes);
        result.observe(slotsBusy, node.slotsBusy, attributes);
        result.observe(deferred, node.deferred, attributes);
      }
      result.observe(queue, reading.queueDepth);
    },
    [up, state, breaker, inFlight, slotsTotal, slotsBusy, deferred, queue],
  );
}
