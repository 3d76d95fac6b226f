import { describe, expect, it } from "vitest";
import { Attempt } from "../../../src/gateway/attempt.js";
import { NodeBreakers } from "../../../src/resilience/index.js";
import { testNodeEntry } from "../../support/node-entry.js";

function setup() {
  const clock = () => 1_000;
  const entry = testNodeEntry(clock);
  const env = { breakers: new NodeBreakers(), clock, onSettled: () => undefined };
  // The call's settle hands each attempt's observation to its node; here it is handed on at once.
  const start = (tokens: number) =>
    new Attempt(entry, env, [], (report) => entry.observe(report.observation), tokens);
  return { entry, start };
}

describe("an attempt's prompt work on its node", () => {
  it("is pending from its start until its first token, and is released once however it ends", () => {
    const { entry, start } = setup();
    const streamed = start(1200);
    const unary = start(300);
    expect([entry.pendingPrefillTokens, entry.prefillingRequests]).toEqual([1500, 2]);

    streamed.firstToken();
    expect([entry.pendingPrefillTokens, entry.prefillingRequests]).toEqual([300, 1]);
    // Settling after the first token must not release the prompt a second time.
    streamed.succeed({});
    expect([entry.pendingPrefillTokens, entry.prefillingRequests]).toEqual([300, 1]);

    // A whole answer has no first token of its own: its prompt is released when it settles.
    unary.endWithoutFault();
    expect([entry.pendingPrefillTokens, entry.prefillingRequests, entry.inFlight]).toEqual([0, 0, 0]);
  });

  it("tells the node what was pending when it began, so the node can learn how prompts share its batch", () => {
    const { entry, start } = setup();
    start(1000);
    const beside = start(100);
    beside.succeed({ timings: { prompt_n: 100, prompt_ms: 50, predicted_n: 1, predicted_ms: 1 } });
    // No request ran alone yet: the rate is read from the shared one, corrected by the one-batch prior.
    expect(entry.prefillTokensPerSec).toBeCloseTo(((100 + 1000) / 50) * 1000);
  });
});
