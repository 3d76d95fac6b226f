import { describe, expect, it } from "vitest";
import { HELD_FOR_MS, HeldConversations } from "../../../src/fleet/held-conversations.js";

describe("HeldConversations", () => {
  it("counts each conversation once, and forgets those not served for a while", () => {
    let now = 0;
    const held = new HeldConversations(() => now);
    held.touch("a", 4);
    held.touch("b", 4);
    held.touch("a", 4);
    expect(held.count()).toBe(2);
    now = HELD_FOR_MS / 2;
    held.touch("b", 4);
    now = HELD_FOR_MS + 1;
    expect(held.count()).toBe(1);
  });

  it("stays bounded by a few times the node's slots", () => {
    const held = new HeldConversations(() => 0);
    for (let i = 0; i < 100; i++) held.touch(`c${i}`, 2);
    expect(held.count()).toBe(4);
  });

  it("judges the conversation in the slot to be reused by its silence against the gap between turns", () => {
    let now = 0;
    const held = new HeldConversations(() => now);
    // Conversations on this node come back about 2 s after their last turn.
    for (const key of ["a", "b", "a", "b"]) {
      held.touch(key, 2);
      now += 1_000;
    }
    expect(held.evictionRisk(2)).toBeGreaterThan(0.5);
    // Silent for ten gaps: they have most likely ended, and taking their slot costs nothing.
    now += 20_000;
    expect(held.evictionRisk(2)).toBeLessThan(0.05);
    expect(held.evictionRisk(3)).toBe(0);
  });
});
