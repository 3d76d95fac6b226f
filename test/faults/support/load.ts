import { mulberry32 } from "../../../src/seeded-random.js";
import { type Classified, classifyStream, classifyUnary, type RequestKind } from "./classify.js";

/** One client request of a fault workload. */
export interface RequestSpec {
  readonly kind: RequestKind;
  readonly stream: boolean;
  readonly maxTokens: number;
  readonly prompt: string;
}

export interface RequestRecord {
  readonly spec: RequestSpec;
  readonly outcome: Classified;
  readonly status: number;
  /** `x-fleetgate-node`: the node that answered (for streams, the one that opened it). */
  readonly node: string;
  /** Since sending: first content for streams, the whole answer for non-streamed requests. */
  readonly ttftMs: number | undefined;
  readonly totalMs: number;
  readonly startedAt: number;
}

export interface SendOptions {
  /** Past this the request counts as hung: a violation, whatever the gateway does later. */
  readonly guardMs: number;
}

const TOPICS = ["the sea", "a lighthouse", "rain in spring", "an old map", "the night train", "a garden"];

/**
 * A seeded mix like an app's traffic: mostly chat, half of it streamed, a share of raw completions.
 * Prompts differ so that prefix affinity does not pin everything on one node.
 */
export function requestMix(count: number, seed: number, maxTokens = 12): RequestSpec[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const roll = random();
    const kind: RequestKind = roll < 0.75 ? "chat" : "completions";
    const stream = kind === "chat" ? random() < 0.6 : random() < 0.5;
    const topic = TOPICS[Math.floor(random() * TOPICS.length)] ?? "the sea";
    return { kind, stream, maxTokens, prompt: `Request ${i} (${seed}): write a line about ${topic}.` };
  });
}

function bodyOf(spec: RequestSpec): Record<string, unknown> {
  const common = { model: "tiny", max_tokens: spec.maxTokens, stream: spec.stream };
  return spec.kind === "chat"
    ? { ...common, messages: [{ role: "user", content: spec.prompt }] }
    : { ...common, prompt: spec.prompt };
}

const PATHS: Record<RequestKind, string> = { chat: "/v1/chat/completions", completions: "/v1/completions" };

/** Sends one request and classifies the answer; a transport failure or a hang is a violation. */
export async function sendRequest(
  gatewayURL: string,
  spec: RequestSpec,
  options: SendOptions,
): Promise<RequestRecord> {
  const startedAt = performance.now();
  const guard = AbortSignal.timeout(options.guardMs);
  let status = 0;
  let node = "";
  let ttftMs: number | undefined;
  try {
    const response = await fetch(`${gatewayURL}${PATHS[spec.kind]}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(bodyOf(spec)),
      signal: guard,
    });
    status = response.status;
    node = response.headers.get("x-fleetgate-node") ?? "";
    const contentType = response.headers.get("content-type") ?? "";
    let body = "";
    const decoder = new TextDecoder();
    for await (const chunk of response.body ?? []) {
      body += decoder.decode(chunk, { stream: true });
      // Keep-alive comments are not content: TTFT is the first data event.
      if (ttftMs === undefined && body.includes("data:")) ttftMs = performance.now() - startedAt;
    }
    body += decoder.decode();
    const totalMs = performance.now() - startedAt;
    const outcome = spec.stream
      ? classifyStream(spec.kind, status, contentType, body)
      : classifyUnary(spec.kind, status, body);
    const firstContent = outcome.verdict === "success" ? (spec.stream ? ttftMs : totalMs) : undefined;
    return { spec, outcome, status, node, ttftMs: firstContent, totalMs, startedAt };
  } catch (err) {
    const reason = guard.aborted ? `no end within ${options.guardMs} ms (hang)` : `transport: ${String(err)}`;
    const outcome: Classified = { verdict: "violation", reason, text: "", ids: [], continued: false };
    return {
      spec,
      outcome,
      status,
      node,
      ttftMs: undefined,
      totalMs: performance.now() - startedAt,
      startedAt,
    };
  }
}

/** Runs the specs with at most `concurrency` in flight, in order; records come back in spec order. */
export async function runConcurrent(
  gatewayURL: string,
  specs: readonly RequestSpec[],
  concurrency: number,
  options: SendOptions,
): Promise<RequestRecord[]> {
  const records: RequestRecord[] = new Array(specs.length);
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const index = next++;
      records[index] = await sendRequest(gatewayURL, specs[index] as RequestSpec, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  return records;
}

export interface OpenLoopOptions extends SendOptions {
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly seed: number;
  readonly maxTokens: number;
  /** Told when each request is sent, e.g. to inject a fault at a given point of the run. */
  readonly onSend?: (index: number, elapsedMs: number) => void;
}

/**
 * Open-loop load: requests leave at seeded Poisson arrival times whatever the gateway's latency, so a
 * slow or failing gateway cannot slow the workload down and hide its own tail.
 */
export async function runOpenLoop(gatewayURL: string, options: OpenLoopOptions): Promise<RequestRecord[]> {
  const random = mulberry32(options.seed ^ 0x5bd1e995);
  const arrivals: number[] = [];
  for (let at = 0; ; ) {
    at += -Math.log(1 - random()) * (1000 / options.ratePerSecond);
    if (at >= options.durationMs) break;
    arrivals.push(at);
  }
  const specs = requestMix(arrivals.length, options.seed, options.maxTokens);
  const start = performance.now();
  const pending = arrivals.map(async (at, index) => {
    const wait = start + at - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    options.onSend?.(index, performance.now() - start);
    return sendRequest(gatewayURL, specs[index] as RequestSpec, options);
  });
  return Promise.all(pending);
}

export function tally(records: readonly RequestRecord[]): Record<"success" | "error" | "violation", number> {
  const counts = { success: 0, error: 0, violation: 0 };
  for (const record of records) counts[record.outcome.verdict] += 1;
  return counts;
}
