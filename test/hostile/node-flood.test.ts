import { afterEach, describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/config/index.js";
import type { SimNodeOptions } from "../../src/sim/index.js";
import { postJson, startFleet, type TestFleet } from "../support/fleet.js";
import { keepBusy, loopDelay, watchDowns } from "./support/node-harness.js";

/**
 * Issue 15, finding 1: a node that streams without event boundaries (`data: {"x":"`, then `a` bytes
 * forever) stalled the gateway's event loop: after about 56 MiB, /healthz took seconds, every health
 * probe failed and all healthy nodes were marked down. The framer is now linear and capped per event
 * and per response from the first byte, so the flood costs the hostile node its request and nobody
 * else anything. While it floods, the healthy nodes stay healthy, and the event loop's p99 delay stays
 * under 3× + 300 ms of what the same traffic costs without the flood, measured first in the same test
 * (timing-sensitive): a machine busy with other work raises both, and this process also runs the
 * flooding sim. Quiet, the flood costs 10-20 ms of p99; the stall this guards against was seconds
 * (p99 1.4 s and 2.7 s on the old framer, against a quiet baseline of about 10 ms).
 */
const MiB = 1024 * 1024;
const FLOOD_MS = 2500;
/** Flooded requests the hostile node must have had, and answers the clients must have got. */
const FLOODED = 4;
const SERVED = 11;
const FAST: SimNodeOptions = { ttftMs: 5, tokensPerSecond: 400 };

let fleet: TestFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const floodAfter = (afterTokens: number) => ({ afterTokens, bytes: 96 * MiB });

/** Starts quiet: the test measures the loop without the flood first, then turns it on. */
function floodFleet(resilience: NonNullable<GatewayConfigInput["resilience"]> = {}) {
  return startFleet([FAST, FAST, FAST], {
    config: {
      routing: { strategy: "round-robin", affinity: false },
      resilience: {
        ttft_timeout_ms: 5000,
        // Keep the hostile node in rotation for the whole run, so it floods all along.
        breaker: { volume_threshold: 100_000 },
        retry_budget_min_per_second: 1000,
        ...resilience,
      },
    },
  });
}

async function streamed(baseURL: string, kind: "chat" | "completions"): Promise<string> {
  const body =
    kind === "chat"
      ? { model: "tiny", messages: [{ role: "user", content: "Hello there" }], max_tokens: 6, stream: true }
      : { model: "tiny", prompt: "Once upon a time", max_tokens: 6, stream: true };
  const response = await postJson(`${baseURL}/${kind === "chat" ? "chat/completions" : "completions"}`, body);
  const text = await response.text();
  return `${response.status} ${text.endsWith("data: [DONE]\n\n") && !text.includes('"error"') ? "complete" : text.slice(-300)}`;
}

describe("a node that floods without event boundaries", () => {
  it.each([
    ["before its first event", "completions", 0, {}],
    ["after its first tokens (the answer continues elsewhere)", "chat", 2, {}],
    // Events may be as large as the flood here: only the total cap, counted from byte one, stops it.
    [
      "with only the response cap to stop it",
      "completions",
      0,
      { max_event_bytes: 256 * MiB, max_response_bytes: 2 * MiB },
    ],
  ] as const)(
    "%s: costs its own request only; the loop and the fleet stay well",
    async (_, kind, after, limits) => {
      fleet = await floodFleet(limits);
      const { baseURL } = fleet;
      const hostile = fleet.sims[0]!;
      const quiet = loopDelay();
      await keepBusy(FLOOD_MS / 2, 4, () => streamed(baseURL, kind));
      const baseline = quiet.stop();
      hostile.setFaults({ endlessEvent: floodAfter(after) });
      const downs = watchDowns(fleet.gateway.url, ["node-1", "node-2"]);
      const delay = loopDelay();
      // Each request to the flooding node costs seconds of CPU when the machine is loaded: flood
      // until it has had a few, rather than for a fixed time that a slow machine fills with fewer.
      const results = await keepBusy(FLOOD_MS, 4, () => streamed(baseURL, kind), {
        enough: (done) => hostile.stats().completionRequests >= FLOODED && done.length >= SERVED,
        maxMs: FLOOD_MS * 4,
      });
      const { p99, max } = delay.stop();
      expect(downs.stop()).toEqual([]);
      expect(
        p99,
        `event-loop delay p99 ${p99.toFixed(1)} ms (max ${max.toFixed(1)}), ${baseline.p99.toFixed(1)} ms without the flood`,
      ).toBeLessThan(baseline.p99 * 3 + 300);
      expect(hostile.stats().completionRequests).toBeGreaterThanOrEqual(FLOODED);
      expect(results.filter((result) => result !== "200 complete")).toEqual([]);
      expect(results.length).toBeGreaterThanOrEqual(SERVED);
    },
    // Past the flood's own longest stretch, on a loaded machine.
    FLOOD_MS * 4 + 20_000,
  );
});
