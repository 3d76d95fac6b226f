import type { Attributes } from "@opentelemetry/api";
import { hrTime } from "@opentelemetry/core";
import { emptyResource } from "@opentelemetry/resources";
import type { MetricData, MetricProducer } from "@opentelemetry/sdk-metrics";
import { CounterFamily, type Descriptor, gaugeData, HistogramFamily } from "./aggregates.js";
import type { FleetReading, GatewayMetrics, NodeReading, OperationRecord } from "./metrics.js";

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

export const SCOPE = "fleetgate";

const BREAKER_VALUE = { closed: 0, open: 1, "half-open": 2 } as const;

const d = (name: string, unit: string, description: string): Descriptor => ({ name, unit, description });

/** Per-node gauges, each a reading of the node at collection time. */
const NODE_GAUGES: readonly [Descriptor, (node: NodeReading) => number | undefined][] = [
  [
    d("fleetgate.node.up", "1", "1 when the node takes calls: healthy, breaker not open."),
    (n) => (n.up ? 1 : 0),
  ],
  [
    d("fleetgate.node.breaker.state", "1", "The node's breaker: 0 closed, 1 open, 2 half-open."),
    (n) => BREAKER_VALUE[n.breaker],
  ],
  [d("fleetgate.node.requests.in_flight", "{request}", "Calls on the node now."), (n) => n.inFlight],
  [d("fleetgate.node.slots.total", "{slot}", "The node's slots (parallel sequences)."), (n) => n.slotsTotal],
  [d("fleetgate.node.slots.busy", "{slot}", "The node's slots processing now."), (n) => n.slotsBusy],
  [d("fleetgate.node.requests.deferred", "{request}", "Requests queued inside the node."), (n) => n.deferred],
];
const NODE_STATE = d("fleetgate.node.state", "1", "1 for the node's current health state.");
const QUEUE_DEPTH = d(
  "fleetgate.admission.queue.depth",
  "{request}",
  "Calls waiting for a node with capacity.",
);

/**
 * GatewayMetrics over OpenTelemetry's data model: the four GenAI histograms, fleetgate's own
 * counters, and gauges read from the fleet when a collection (a scrape or an OTLP export) asks,
 * so node state costs nothing per call. Labels are bounded: node ids, catalogue codes, route
 * reasons and served models; never a key, a tenant or a request id. The producer hands the
 * readers what has been counted.
 */
export function createGatewayMetrics(fleet: () => FleetReading): {
  metrics: GatewayMetrics;
  producer: MetricProducer;
} {
  const tokens = new HistogramFamily(
    d("gen_ai.client.token.usage", "{token}", "Number of input and output tokens used."),
    GENAI_BUCKETS.tokens,
  );
  const duration = new HistogramFamily(
    d("gen_ai.client.operation.duration", "s", "GenAI operation duration."),
    GENAI_BUCKETS.duration,
  );
  const ttft = new HistogramFamily(
    d("gen_ai.server.time_to_first_token", "s", "Time to generate first token for successful responses."),
    GENAI_BUCKETS.ttft,
  );
  const perToken = new HistogramFamily(
    d(
      "gen_ai.server.time_per_output_token",
      "s",
      "Time per output token generated after the first token for successful responses.",
    ),
    GENAI_BUCKETS.timePerOutputToken,
  );
  const admissionWait = new HistogramFamily(
    d(
      "fleetgate.admission.wait.duration",
      "s",
      "Time calls waited in the admission queue for a node with capacity.",
    ),
    ADMISSION_WAIT_BUCKETS,
  );
  const attempts = new CounterFamily(
    d("fleetgate.node.attempts", "{attempt}", "Tries of calls on nodes, by result."),
  );
  const routed = new CounterFamily(
    d("fleetgate.requests.routed", "{request}", "Calls routed, by first node and reason."),
  );
  const failovers = new CounterFamily(
    d("fleetgate.failovers", "{failover}", "Calls moved to another node before the first byte."),
  );
  const continuations = new CounterFamily(
    d("fleetgate.continuations", "{continuation}", "Broken streams picked up by another node."),
  );
  const hedges = new CounterFamily(
    d("fleetgate.hedges", "{hedge}", "Second nodes raced against a slow first token."),
  );
  const storeErrors = new CounterFamily(
    d("fleetgate.store.errors", "{error}", "Failed state store operations."),
  );
  const quotaRefusals = new CounterFamily(
    d("fleetgate.quota.refused", "{request}", "Calls refused by a key's or tenant's quota, by limit."),
  );
  const quotaFallbacks = new CounterFamily(
    d("fleetgate.quota.fallbacks", "{event}", "Quota store failures, by operation and what the call got."),
  );
  const cacheLookups = new CounterFamily(
    d(
      "fleetgate.cache.lookups",
      "{request}",
      "Calls the prompt cache had a part in, by result (hit, miss, bypass).",
    ),
  );
  const cacheFills = new CounterFamily(
    d("fleetgate.cache.fills", "{entry}", "Answers the prompt cache stored."),
  );
  const cacheFallbacks = new CounterFamily(
    d(
      "fleetgate.cache.store_fallbacks",
      "{operation}",
      "Prompt cache operations served from memory only because the shared store failed.",
    ),
  );
  const histograms = [tokens, duration, ttft, perToken, admissionWait];
  const counters = [
    attempts,
    routed,
    failovers,
    continuations,
    hedges,
    storeErrors,
    quotaRefusals,
    quotaFallbacks,
    cacheLookups,
    cacheFills,
    cacheFallbacks,
  ];
  const startTime = hrTime();

  const metrics: GatewayMetrics = {
    operation(record) {
      const key = `${record.operation}\0${record.model ?? ""}\0${record.node?.id ?? ""}\0${record.errorType ?? ""}`;
      const attributes = () => operationAttributes(record);
      duration.point(key, attributes).record(record.durationS);
      if (record.ttftS !== undefined) ttft.point(key, attributes).record(record.ttftS);
      if (record.timePerOutputTokenS !== undefined)
        perToken.point(key, attributes).record(record.timePerOutputTokenS);
      if (record.inputTokens !== undefined) {
        const typed = () => ({ ...attributes(), "gen_ai.token.type": "input" });
        tokens.point(`${key}\0input`, typed).record(record.inputTokens);
      }
      if (record.outputTokens !== undefined) {
        const typed = () => ({ ...attributes(), "gen_ai.token.type": "output" });
        tokens.point(`${key}\0output`, typed).record(record.outputTokens);
      }
    },
    attempt(node, result, errorType) {
      attempts.add(`${node}\0${result}\0${errorType ?? ""}`, () =>
        errorType === undefined ? { node, result } : { node, result, "error.type": errorType },
      );
    },
    routed: (node, reason) => routed.add(`${node}\0${reason}`, () => ({ node, reason })),
    failover: (fromNode) => failovers.add(fromNode, () => ({ node: fromNode })),
    continuation: (node) => continuations.add(node, () => ({ node })),
    hedge(won) {
      const result = won ? "won" : "lost";
      hedges.add(result, () => ({ result }));
    },
    admissionWait(seconds, errorType) {
      const attributes = () => (errorType === undefined ? {} : { "error.type": errorType });
      admissionWait.point(errorType ?? "", attributes).record(seconds);
    },
    storeError: (operation) => storeErrors.add(operation, () => ({ operation })),
    quotaRefused: (limit) => quotaRefusals.add(limit, () => ({ limit })),
    quotaFallback: (operation, decision) =>
      quotaFallbacks.add(`${operation}\0${decision}`, () => ({ operation, decision })),
    cacheLookup: (result) => cacheLookups.add(result, () => ({ result })),
    cacheFill: () => cacheFills.add("", () => ({})),
    cacheStoreFallback: () => cacheFallbacks.add("", () => ({})),
  };

  const producer: MetricProducer = {
    async collect() {
      const now = hrTime();
      const data: MetricData[] = [
        ...histograms.map((family) => family.data(startTime, now)),
        ...counters.map((family) => family.data(startTime, now)),
        ...fleetGauges(fleet(), now),
      ];
      return {
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: [{ scope: { name: SCOPE }, metrics: data }],
        },
        errors: [],
      };
    },
  };
  return { metrics, producer };
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

function fleetGauges(reading: FleetReading, now: ReturnType<typeof hrTime>): MetricData[] {
  const perNode = NODE_GAUGES.map(([descriptor, value]) =>
    gaugeData(
      descriptor,
      now,
      reading.nodes.flatMap((node) => {
        const observed = value(node);
        return observed === undefined ? [] : [[observed, { node: node.id }] as const];
      }),
    ),
  );
  const states = gaugeData(
    NODE_STATE,
    now,
    reading.nodes.map((node) => [1, { node: node.id, state: node.state }] as const),
  );
  return [...perNode, states, gaugeData(QUEUE_DEPTH, now, [[reading.queueDepth, {}]])];
}
