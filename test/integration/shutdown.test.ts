import { describe, expect, it } from "vitest";
import { postJson, startFleet } from "../support/fleet.js";

const ask = { model: "tiny", messages: [{ role: "user", content: "tell me a long story" }], stream: true };

describe("graceful shutdown", () => {
  it("lets short streams finish, ends the rest with an explicit error event, and stops being ready", async () => {
    const fleet = await startFleet([{ model: "tiny", tokensPerSecond: 40, slots: 4 }]);
    try {
      const short = await postJson(`${fleet.baseURL}/chat/completions`, { ...ask, max_tokens: 8 });
      const long = await postJson(`${fleet.baseURL}/chat/completions`, { ...ask, max_tokens: 400 });
      const shortText = short.text();
      const longText = long.text();
      const closing = fleet.gateway.close(600);
      expect(fleet.gateway.gateway.ready()).toBe(false);
      await closing;
      expect((await shortText).trimEnd().endsWith("data: [DONE]")).toBe(true);
      const cut = await longText;
      expect(cut).not.toContain("[DONE]");
      expect(cut).toContain('"code":"shutting_down"');
    } finally {
      await Promise.all(fleet.sims.map((sim) => sim.close()));
    }
  });
});
