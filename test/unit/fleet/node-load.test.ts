import { describe, expect, it } from "vitest";
import { testNodeEntry as entry } from "../../support/node-entry.js";

describe("what a node entry tells routing about load", () => {
  it("counts as other gateways' only what a probe saw beyond this gateway's own requests, stamped with its time", () => {
    let now = 1000;
    const node = entry(() => now);
    node.begin();
    node.updateCapacity({ slotsBusy: 3, deferred: 1 });
    expect(node.foreignLoad).toBe(3);
    expect(node.probedAt).toBe(1000);
    now = 2000;
    node.begin();
    node.begin();
    node.updateCapacity({ slotsBusy: 3, deferred: 0 });
    expect(node.foreignLoad).toBe(0);
    expect(node.probedAt).toBe(2000);
  });

  it("learns how long the node holds a slot per request from complete answers", () => {
    const node = entry(() => 0);
    expect(node.serviceMs).toBeUndefined();
    node.observe({ ok: true, nodeFault: false, serviceMs: 400 });
    expect(node.serviceMs).toBe(400);
  });

  it("risks evicting a returning conversation only once every slot holds a recent one", () => {
    const node = entry(() => 0);
    for (const key of ["a", "b", "a", "c"]) node.holdConversation(key);
    expect(node.evictionRisk).toBe(0);
    node.holdConversation("d");
    expect(node.evictionRisk).toBe(1);
  });
});
