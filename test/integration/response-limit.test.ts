import { describe, expect, it } from "vitest";
import { postJson, startFleet } from "../support/fleet.js";

const ask = { model: "tiny", messages: [{ role: "user", content: "tell me everything" }], ignore_eos: true };

describe("a node answering more than max_response_bytes", () => {
  it("is cut off as the node's fault, for whole answers and for streams", async () => {
    const fleet = await startFleet([{ model: "tiny", tokensPerSecond: 2000 }], {
      config: { resilience: { max_response_bytes: 2048, continuation: false } },
    });
    try {
      const small = await postJson(`${fleet.baseURL}/chat/completions`, { ...ask, max_tokens: 4 });
      expect(small.status).toBe(200);
      const whole = await postJson(`${fleet.baseURL}/chat/completions`, { ...ask, max_tokens: 600 });
      expect(whole.status).toBe(502);
      expect(((await whole.json()) as { error: { code: string } }).error.code).toBe(
        "upstream_malformed_response",
      );
      const stream = await postJson(`${fleet.baseURL}/chat/completions`, {
        ...ask,
        max_tokens: 600,
        stream: true,
      });
      const text = await stream.text();
      expect(text).not.toContain("[DONE]");
      expect(text.length).toBeLessThan(4096);
      // The cap counts from the node's first byte: when the node's first read already runs past it,
      // nothing has reached the client and the answer is a plain 502; otherwise the stream ends with
      // an explicit error event. Which one depends on how the node's writes coalesce on the socket.
      if (stream.status === 502) expect(text).toContain('"code":"upstream_malformed_response"');
      else expect(text).toContain('"code":"stream_interrupted"');
    } finally {
      await fleet.close();
    }
  });
});
