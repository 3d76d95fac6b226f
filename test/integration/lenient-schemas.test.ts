import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startFleet, type TestFleet } from "../support/fleet.js";

/** Bodies llama-server takes must pass the gateway too: it was stricter than its nodes (issue 16). */

describe("the gateway is no stricter than its nodes", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny", tokensPerSecond: 500 }]);
  });
  afterAll(() => fleet?.close());

  it("passes n > 1 and llama.cpp extras to the node", async () => {
    const res = await postJson(`${fleet.baseURL}/chat/completions`, {
      model: "tiny",
      n: 2,
      cache_prompt: false,
      max_tokens: 4,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: unknown[] };
    expect(body.choices.length).toBeGreaterThan(0);
  });

  it("proxies a completions prompt given as a token array", async () => {
    const completion = await fleet.client.completions.create({
      model: "tiny",
      prompt: [[1, 2, 3]],
      max_tokens: 4,
    });
    expect(completion.choices[0]?.text).toEqual(expect.any(String));
    expect(completion.usage?.prompt_tokens).toBe(3);
  });
});
