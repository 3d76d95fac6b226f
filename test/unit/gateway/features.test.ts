import { describe, expect, it } from "vitest";
import { estimateChatTokens } from "../../../src/accounting/index.js";
import { type ProxiedRequest, requestFeatures } from "../../../src/gateway/features.js";
import type { ChatCompletionRequest } from "../../../src/openai/index.js";

const context = { prefixKey: "k", rememberedNode: undefined, origin: undefined, allowedRegions: undefined };
const system = { role: "system" as const, content: "You are a careful travel agent. ".repeat(40) };
const chat = (body: ChatCompletionRequest): ProxiedRequest => ({ kind: "chat", body });

describe("what routing is told to expect in the affinity node's cache", () => {
  it("nothing for a prompt never seen before", () => {
    const request = chat({ model: "m", messages: [{ role: "user", content: "Plan a trip." }] });
    expect(requestFeatures(request, "m", context).expectedCachedTokens).toBe(0);
  });

  it("the system prompt for a new conversation under one", () => {
    const request = chat({ model: "m", messages: [system, { role: "user", content: "Plan a trip." }] });
    expect(requestFeatures(request, "m", context).expectedCachedTokens).toBe(estimateChatTokens([system]));
  });

  it("the whole conversation but its newest message on a remembered node", () => {
    const earlier = [
      system,
      { role: "user" as const, content: "Plan a trip." },
      { role: "assistant" as const, content: "Where to?" },
    ];
    const request = chat({ model: "m", messages: [...earlier, { role: "user", content: "Lisbon." }] });
    const features = requestFeatures(request, "m", { ...context, rememberedNode: "node-1" });
    expect(features.expectedCachedTokens).toBe(estimateChatTokens(earlier));
  });
});
