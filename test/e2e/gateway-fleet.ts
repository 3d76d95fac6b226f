/**
 * A fleetgate gateway in front of real llama-server nodes, plus the small client-side readers the
 * end-to-end tests share: raw SSE reading, the admin view of the registry, and polling.
 */
import OpenAI from "openai";
import { z } from "zod";
import { buildConfig } from "../../src/config/index.js";
import { type RunningGateway, startGateway } from "../../src/main.js";
import { SseDecoder } from "../../src/openai/sse.js";
import { silentLogger } from "../../src/telemetry/index.js";

export interface E2eGateway {
  readonly gateway: RunningGateway;
  readonly client: OpenAI;
  readonly baseURL: string;
  adminNodes(): Promise<AdminNode[]>;
  close(): Promise<void>;
}

/** The e2e gateway runs as production would: API calls need this key, the admin API its token. */
export const E2E_API_KEY = "e2e-api-key-0123456789abcdef";
const E2E_ADMIN_TOKEN = "e2e-admin-token-0123456789";

/** Fast probes so that health changes show within a few hundred milliseconds. */
export async function startE2eGateway(urls: readonly string[], intervalMs = 100): Promise<E2eGateway> {
  const config = buildConfig({
    server: { host: "127.0.0.1", port: 0, keepalive_interval_ms: 1000 },
    health: { interval_ms: intervalMs, timeout_ms: 1000, unhealthy_threshold: 2, healthy_threshold: 2 },
    nodes: urls.map((url, i) => ({ id: `node-${i}`, url })),
    auth: { keys: [{ id: "e2e", tenant: "e2e", key: E2E_API_KEY }] },
    admin: { token: E2E_ADMIN_TOKEN },
  });
  const gateway = await startGateway(config, silentLogger);
  const baseURL = `${gateway.url}/v1`;
  return {
    gateway,
    baseURL,
    client: new OpenAI({ baseURL, apiKey: E2E_API_KEY, maxRetries: 0 }),
    adminNodes: async () => {
      const res = await fetch(`${gateway.url}/admin/nodes`, {
        headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
      });
      return adminSchema.parse(await res.json()).nodes;
    },
    close: () => gateway.close(),
  };
}

const adminNodeSchema = z.object({
  id: z.string(),
  state: z.string(),
  models: z.array(z.string()),
  in_flight: z.number(),
  slots_total: z.number().nullable(),
  slots_busy: z.number(),
  deferred: z.number(),
  last_error: z.string().nullable(),
});
const adminSchema = z.object({ nodes: z.array(adminNodeSchema) });
export type AdminNode = z.infer<typeof adminNodeSchema>;

export const slotsSchema = z.array(z.object({ id: z.number(), is_processing: z.boolean() }));

/** How a streamed response ended, as a client reading raw bytes sees it. */
export interface StreamOutcome {
  /** Parsed JSON of every `data:` event except [DONE]. */
  readonly events: unknown[];
  readonly done: boolean;
  /** The `error` object of an in-stream error event, if one came. */
  readonly error: { code?: unknown; message?: unknown } | undefined;
  /** The transport failed before the body ended (not a clean end of stream). */
  readonly transportError: string | undefined;
}

/** Reads an SSE body to its end; `onEvent` may stop reading early by returning false. */
export async function readStream(
  response: Response,
  onEvent: (event: unknown, index: number) => boolean | undefined = () => true,
): Promise<StreamOutcome> {
  const events: unknown[] = [];
  let done = false;
  let transportError: string | undefined;
  const decoder = new SseDecoder();
  const body = response.body;
  if (!body) throw new Error("response without a body");
  try {
    reading: for await (const bytes of body) {
      for (const { data } of decoder.push(bytes)) {
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        const event: unknown = JSON.parse(data);
        events.push(event);
        if (onEvent(event, events.length - 1) === false) break reading;
      }
    }
  } catch (err) {
    transportError = (err as Error).message;
  }
  const errorEvent = events.find(
    (e): e is { error: { code?: unknown; message?: unknown } } =>
      typeof e === "object" && e !== null && "error" in e,
  );
  return { events, done, error: errorEvent?.error, transportError };
}

export function postChat(baseURL: string, body: object, signal?: AbortSignal): Promise<Response> {
  return fetch(`${baseURL}/chat/completions`, {
    method: "POST",
    // A llama-server without --api-key ignores the key, so the same call works direct too.
    headers: { authorization: `Bearer ${E2E_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
}

/** Polls until the check passes; returns how long it took, or undefined when time ran out. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 20,
): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started <= timeoutMs) {
    if (await check()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return undefined;
}

export async function nodeSlots(url: string): Promise<z.infer<typeof slotsSchema>> {
  return slotsSchema.parse(await (await fetch(`${url}/slots`)).json());
}

/** A user message no other test sends, so that affinity and slot caches do not link unrelated requests. */
export function freshMessages(tag: string): { role: "user"; content: string }[] {
  return [{ role: "user", content: `${tag} ${Math.random().toString(36).slice(2)}: tell me a story.` }];
}
