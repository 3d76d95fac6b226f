import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startFleet, type TestFleet } from "../support/fleet.js";
import { bodyOf, OutcomeRecorder } from "../support/outcomes.js";

const KEY_A = "sk-tenant-a-0123456789abcdef";
const KEY_A2 = "sk-tenant-a-second-0123456789";
const KEY_B = "sk-tenant-b-0123456789abcdef";

let counter = 0;
/** A deterministic chat request no other test sends. */
function ask(extra: Record<string, unknown> = {}) {
  counter += 1;
  return {
    model: "tiny",
    messages: [{ role: "user", content: `cache test question ${counter} ${Math.random()}` }],
    temperature: 0,
    max_tokens: 12,
    ...extra,
  };
}

function completions(fleet: TestFleet): number {
  return fleet.sims.reduce((sum, sim) => sum + sim.stats().completionRequests, 0);
}

interface Chunk {
  id: string;
  object: string;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: unknown;
}

describe("the prompt cache on one gateway", () => {
  let fleet: TestFleet;
  let outcomes: OutcomeRecorder;

  beforeAll(async () => {
    fleet = await startFleet([{ tokensPerSecond: 400 }], {
      config: {
        auth: {
          keys: [
            { id: "a1", tenant: "tenant-a", key: KEY_A },
            { id: "a2", tenant: "tenant-a", key: KEY_A2 },
            { id: "b1", tenant: "tenant-b", key: KEY_B },
          ],
        },
        cache: { single_flight_wait_ms: 5000 },
      },
    });
    outcomes = new OutcomeRecorder(fleet);
  });
  afterAll(() => fleet.close());

  const post = (body: unknown, id: string, key = KEY_A, headers: Record<string, string> = {}) =>
    fetch(`${fleet.baseURL}/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${key}`,
        "x-request-id": id,
        ...headers,
      },
      body: JSON.stringify(body),
    });

  it("misses, then hits without a node, with age and the stored usage, and says so", async () => {
    const body = ask();
    const before = completions(fleet);
    const first = await post(body, outcomes.nextId("miss"));
    expect(first.headers.get("x-fleetgate-cache")).toBe("miss");
    expect(first.headers.get("age")).toBeNull();
    const live = (await first.json()) as { id: string; usage: { completion_tokens: number } };
    await eventually(() => completions(fleet) === before + 1);
    // The fill runs at settle; the second request must find it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const id = outcomes.nextId("hit");
    const second = await post(body, id);
    expect(second.headers.get("x-fleetgate-cache")).toBe("hit");
    expect(second.headers.get("age")).toMatch(/^\d+$/);
    expect(second.headers.get("x-fleetgate-node")).toBeNull();
    const hit = (await second.json()) as typeof live;
    expect(hit.id).not.toBe(live.id);
    expect({ ...hit, id: live.id }).toEqual(stripTimings(live));
    expect(completions(fleet)).toBe(before + 1);
    const outcome = await outcomes.arrived(id);
    expect(outcome.cache).toBe("hit");
    expect(outcome.attempts).toEqual([]);
    expect(outcome.servedBy).toBeUndefined();
    expect(outcome.usage).toMatchObject({ completionTokens: live.usage.completion_tokens, source: "exact" });
  });

  it("bypasses what is not deterministic, and what Cache-Control says not to look up", async () => {
    const random = ask({ temperature: 0.9 });
    delete (random as Record<string, unknown>).seed;
    for (let i = 0; i < 2; i++) {
      const response = await post(random, outcomes.nextId("random"));
      expect(response.headers.get("x-fleetgate-cache")).toBe("bypass");
      await response.arrayBuffer();
    }
    const seeded = ask({ temperature: 0.9, seed: 7 });
    const seededFirst = await post(seeded, outcomes.nextId("seeded"));
    await seededFirst.arrayBuffer();
    await eventually(async () => {
      const again = await post(seeded, outcomes.nextId("seeded-again"));
      await again.arrayBuffer();
      return again.headers.get("x-fleetgate-cache") === "hit";
    });
    const before = completions(fleet);
    const skipped = await post(seeded, outcomes.nextId("no-cache"), KEY_A, { "cache-control": "no-cache" });
    expect(skipped.headers.get("x-fleetgate-cache")).toBe("bypass");
    await skipped.arrayBuffer();
    expect(completions(fleet)).toBe(before + 1);
    const old = await post(seeded, outcomes.nextId("max-age"), KEY_A, { "cache-control": "max-age=0" });
    await old.arrayBuffer();
    // Stored just now, so age 0 is within max-age=0.
    expect(old.headers.get("x-fleetgate-cache")).toBe("hit");
  });

  it("stores nothing under no-store", async () => {
    const body = ask();
    const first = await post(body, outcomes.nextId("no-store"), KEY_A, { "cache-control": "no-store" });
    expect(first.headers.get("x-fleetgate-cache")).toBe("miss");
    await first.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await post(body, outcomes.nextId("after-no-store"));
    expect(second.headers.get("x-fleetgate-cache")).toBe("miss");
    await second.arrayBuffer();
  });

  it("never gives one tenant's entry to another; keys of one tenant share it", async () => {
    const body = ask();
    await (await post(body, outcomes.nextId("tenant-a"))).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const other = await post(body, outcomes.nextId("tenant-b"), KEY_B);
    expect(other.headers.get("x-fleetgate-cache")).toBe("miss");
    await other.arrayBuffer();
    const sameTenant = await post(body, outcomes.nextId("tenant-a2"), KEY_A2);
    expect(sameTenant.headers.get("x-fleetgate-cache")).toBe("hit");
    await sameTenant.arrayBuffer();
  });

  it("replays a non-streamed fill as a real stream, and a streamed fill as JSON, as the SDK reads live ones", async () => {
    const client = new OpenAI({ baseURL: fleet.baseURL, apiKey: KEY_A, maxRetries: 0 });
    const nonStreamed = ask();
    const live = await client.chat.completions.create(nonStreamed as never);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stream = await client.chat.completions.create({
      ...(nonStreamed as object),
      stream: true,
      stream_options: { include_usage: true },
    } as never);
    const chunks: Chunk[] = [];
    for await (const chunk of stream as unknown as AsyncIterable<Chunk>) chunks.push(chunk);
    const live_ = live as unknown as {
      choices: { message: { content: string } }[];
      usage: unknown;
      model: string;
    };
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: null });
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe(live_.choices[0]?.message.content);
    expect(
      chunks.filter((chunk) => typeof chunk.choices[0]?.delta.content === "string").length,
    ).toBeGreaterThan(1);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBeTruthy();
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toEqual(live_.usage);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk")).toBe(true);

    // The other way: a stream fills, a non-streamed client reads the same answer.
    const streamed = ask();
    const liveStream = await client.chat.completions.create({
      ...(streamed as object),
      stream: true,
    } as never);
    let streamedText = "";
    for await (const chunk of liveStream as unknown as AsyncIterable<Chunk>) {
      streamedText += (chunk.choices[0]?.delta.content as string | undefined) ?? "";
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { data, response } = await client.chat.completions.create(streamed as never).withResponse();
    expect(response.headers.get("x-fleetgate-cache")).toBe("hit");
    const fromStream = data as unknown as typeof live_ & Record<string, unknown>;
    expect(fromStream.choices[0]?.message.content).toBe(streamedText);
    const direct = await directAnswer(fleet, streamed);
    expect(Object.keys(fromStream).sort()).toEqual(
      Object.keys(direct)
        .filter((k) => k !== "timings")
        .sort(),
    );
    expect(fromStream.choices).toEqual(direct.choices);
    expect(fromStream.model).toBe(direct.model);
    // Only the node's KV-cache reuse differs between two runs of one prompt.
    const tokens = ({ prompt_tokens_details: _reuse, ...counts }: Record<string, unknown>) => counts;
    expect(tokens(fromStream.usage as Record<string, unknown>)).toEqual(
      tokens(direct.usage as Record<string, unknown>),
    );
  });

  it("replays text completions both ways too", async () => {
    const client = new OpenAI({ baseURL: fleet.baseURL, apiKey: KEY_A, maxRetries: 0 });
    const body = {
      model: "tiny",
      prompt: `Once upon a time ${Math.random()}`,
      temperature: 0,
      max_tokens: 10,
    };
    const live = await client.completions.create(body);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { data, response } = await client.completions.create({ ...body, stream: true }).withResponse();
    expect(response.headers.get("x-fleetgate-cache")).toBe("hit");
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of data) {
      text += chunk.choices[0]?.text ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(live.choices[0]?.text);
    expect(finish).toBe(live.choices[0]?.finish_reason);
  });

  it("stores nothing for an error answer, an interrupted stream or a client that left", async () => {
    const sim = fleet.sims[0]!;
    /** The next request misses (nothing was stored) and fills, so the one after it hits. */
    const missesThenHits = async (body: object, label: string) => {
      const miss = await post(body, outcomes.nextId(label));
      expect(miss.status).toBe(200);
      expect(miss.headers.get("x-fleetgate-cache")).toBe("miss");
      await miss.arrayBuffer();
      expect(
        await eventually(async () => {
          const hit = await post(body, outcomes.nextId(`${label}-hit`));
          await hit.arrayBuffer();
          return hit.headers.get("x-fleetgate-cache") === "hit";
        }),
      ).toBe(true);
    };

    const errored = ask();
    sim.setFaults({ errorRate: 1 });
    const failed = await post(errored, outcomes.nextId("error"));
    expect(failed.status).toBeGreaterThanOrEqual(500);
    await failed.arrayBuffer();
    sim.setFaults({ errorRate: 0 });
    await missesThenHits(errored, "after-error");

    const cut = ask({ stream: true, max_tokens: 30 });
    sim.setFaults({ dieAfterTokens: 3 });
    const broken = await post(cut, outcomes.nextId("cut"));
    expect((await bodyOf(broken)).text).toContain('"error"');
    sim.setFaults({ dieAfterTokens: null });
    await missesThenHits(cut, "after-cut");

    const abandoned = ask({ stream: true, max_tokens: 200 });
    const leftId = outcomes.nextId("abort");
    const leaving = await post(abandoned, leftId);
    const reader = leaving.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect((await outcomes.arrived(leftId)).errorCode).toBe("client_closed_request");
    await missesThenHits(abandoned, "after-abort");
  });

  it("sends ten concurrent identical misses to the node once", async () => {
    const body = ask({ max_tokens: 20 });
    const before = completions(fleet);
    const answers = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const response = await post(body, outcomes.nextId(`flight-${i}`));
        return { cache: response.headers.get("x-fleetgate-cache"), body: (await response.json()) as object };
      }),
    );
    expect(completions(fleet)).toBe(before + 1);
    expect(answers.filter((answer) => answer.cache === "miss")).toHaveLength(1);
    expect(answers.filter((answer) => answer.cache === "hit")).toHaveLength(9);
  });
});

function stripTimings<T extends object>(body: T): Omit<T, "timings"> {
  const { timings: _timings, ...rest } = body as T & { timings?: unknown };
  return rest;
}

/** The node's own non-streamed answer, asked directly. */
async function directAnswer(
  fleet: TestFleet,
  body: object,
): Promise<Record<string, unknown> & { choices: unknown; model: string; usage: unknown }> {
  const response = await fetch(`${fleet.sims[0]!.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as never;
}
