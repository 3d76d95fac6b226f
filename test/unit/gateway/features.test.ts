import { describe, expect, it } from "vitest";
import { estimateChatTokens } from "../../../src/accounting/index.js";
import { type ProxiedRequest, requestFeatures } from "../../../src/gateway/features.js";
import { viewOf } from "../../../src/gateway/request-view.js";
import type { ChatCompletionRequest } from "../../../src/openai/index.js";

const context = { prefixKey: "k", recalled: undefined, origin: undefined, allowedRegions: undefined };
const system = { role: "system" as const, content: "You are a careful travel agent. ".repeat(40) };
const chat = (body: ChatCompletionRequest): ProxiedRequest => ({ kind: "chat", body });

describe("what routing is told to expect in the affinity node's cache", () => {
  it("nothing for a prompt never seen before", () => {
    const request = chat({ model: "m", messages: [{ role: "user", content: "Plan a trip." }] });
    expect(requestFeatures(viewOf(request), "m", context).expectedCachedTokens).toBe(0);
  });

  it("the system prompt for a new conversation under one", () => {
    const request = chat({ model: "m", messages: [system, { role: "user", content: "Plan a trip." }] });
    expect(requestFeatures(viewOf(request), "m", context).expectedCachedTokens).toBe(
      estimateChatTokens([system]),
    );
  });

  it("the messages of the longest prefix the remembered node served, as its own conversation", () => {
    const earlier = [
      system,
      { role: "user" as const, content: "Plan a trip." },
      { role: "assistant" as const, content: "Where to?" },
    ];
    const request = chat({ model: "m", messages: [...earlier, { role: "user", content: "Lisbon." }] });
    const features = requestFeatures(viewOf(request), "m", {
      ...context,
      recalled: { nodeId: "node-1", messages: 2 },
    });
    expect(features.rememberedNode).toBe("node-1");
    expect(features.expectedCachedTokens).toBe(estimateChatTokens(earlier.slice(0, 2)));
    expect(features.rememberedConversation).toBe(true);
  });

  it("a shared system prompt only, on a node that served another conversation under it", () => {
    const request = chat({ model: "m", messages: [system, { role: "user", content: "Plan a trip." }] });
    const features = requestFeatures(viewOf(request), "m", {
      ...context,
      recalled: { nodeId: "node-1", messages: 1 },
    });
    expect(features.expectedCachedTokens).toBe(estimateChatTokens([system]));
    expect(features.rememberedConversation).toBe(false);
  });
});
