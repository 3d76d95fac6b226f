import { afterEach, describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/index.js";
import { adminFetch, eventually, startFleet, type TestFleet } from "../support/fleet.js";
import { chat, type SendOptions, type SentRequest, send } from "./client-support.js";

/**
 * Issue 15, finding 9: one client could fill the whole admission queue, so while it flooded every
 * other client was refused with 429. Each key (or, on an open gateway, each client address) now
 * gets a fair share of the queue and takes its turn with the others.
 */
const QUEUE = 4;
const HOG_KEY = "sk-hog-0123456789abcdef";
const FAIR_KEY = "sk-fair-0123456789abcdef";

interface Clients {
  readonly config: Omit<GatewayConfigInput, "nodes">;
  readonly hog: SendOptions;
  readonly fair: SendOptions;
}

const bearer = (key: string): SendOptions => ({ headers: { authorization: `Bearer ${key}` } });

const modes: Array<[string, Clients]> = [
  [
    "per API key",
    {
      config: {
        auth: {
          keys: [
            { id: "hog", tenant: "hog", key: HOG_KEY },
            { id: "fair", tenant: "fair", key: FAIR_KEY },
          ],
        },
      },
      hog: bearer(HOG_KEY),
      fair: bearer(FAIR_KEY),
    },
  ],
  // Loopback is all of 127.0.0.0/8, so a second address is a second client.
  [
    "per client address on an open gateway",
    { config: {}, hog: { localAddress: "127.0.0.1" }, fair: { localAddress: "127.0.0.2" } },
  ],
];

describe.each(modes)("hostile clients: fair shares of the admission queue, %s", (_, clients) => {
  let fleet: TestFleet | undefined;
  afterEach(() => fleet?.close());

  it("refuses a flood from one client with 429 while another client is still queued and served", async () => {
    fleet = await startFleet([{ model: "tiny", slots: 1, tokensPerSecond: 50 }], {
      config: {
        ...clients.config,
        resilience: { saturation_per_slot: 1, queue_length: QUEUE, queue_timeout_ms: 10_000 },
      },
    });
    const url = `${fleet.baseURL}/chat/completions`;
    const ask = (who: SendOptions, body: unknown) => send(url, { ...who, body });
    // The one slot stays busy for about half a second while the flood arrives.
    const blocker = ask(clients.hog, chat({ max_tokens: 25, ignore_eos: true, stream: true }));
    const busy = async () => {
      const report = (await (await adminFetch(fleet!.gateway.url, "/admin/nodes")).json()) as {
        nodes: Array<{ in_flight: number }>;
      };
      return report.nodes[0]?.in_flight === 1;
    };
    expect(await eventually(busy)).toBe(true);

    const finished: string[] = [];
    const track = (who: string, reply: Promise<SentRequest>) =>
      reply.then((response) => {
        finished.push(`${who}:${response.status}`);
        return response;
      });
    const flood = Array.from({ length: 2 * QUEUE }, () => track("hog", ask(clients.hog, chat())));
    const refusedNow = () => finished.filter((entry) => entry === "hog:429").length;
    expect(await eventually(() => refusedNow() === QUEUE)).toBe(true);

    const fair = await track("fair", ask(clients.fair, chat()));
    expect(fair.status).toBe(200);
    const replies = await Promise.all(flood);
    expect((await blocker).status).toBe(200);
    // The fair client took the flood's newest place, which was told to back off like the rest.
    expect(replies.filter((reply) => reply.status === 429)).toHaveLength(QUEUE + 1);
    for (const reply of replies.filter((r) => r.status === 429)) {
      expect(JSON.parse(reply.body)).toMatchObject({ error: { code: "overloaded" } });
      expect(Number(reply.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    // And it did not wait behind the flood's whole backlog: it went second, turn about.
    const served = finished.filter((entry) => entry.endsWith(":200"));
    expect(served.indexOf("fair:200")).toBeLessThanOrEqual(1);
  });
});
