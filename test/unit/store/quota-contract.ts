import { afterEach, describe, expect, it } from "vitest";
import type { ReserveRequest, StateStore } from "../../../src/store/index.js";
import { slidingUse } from "../../../src/store/index.js";
import type { AdvanceTime, MakeStore } from "./store-contract.js";

const HOUR = 3_600_000;
const sleep: AdvanceTime = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const tokens = (amount: number, limit: number, windowMs = HOUR): ReserveRequest["windows"][number] => ({
  key: "q:{t}:tpm",
  amount,
  limit,
  windowMs,
});
const slot = (id: string, limit: number, ttlMs = HOUR) => ({ key: "q:{t}:conc", id, limit, ttlMs });

/** The quota operations every adapter shares: reserve all-or-nothing, settle to the exact amount. */
export function runQuotaContract(name: string, makeStore: MakeStore, advanceTime: AdvanceTime = sleep): void {
  describe(`StateStore quota contract: ${name}`, () => {
    const open: StateStore[] = [];
    let prefixes = 0;
    const fresh = async (): Promise<StateStore> => {
      prefixes += 1;
      const store = await makeStore(`quota${prefixes}:`);
      open.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
    });

    it("charges every window when all fit, and none when one does not", async () => {
      const store = await fresh();
      const requests = { key: "q:{t}:rpm", amount: 1, limit: 10, windowMs: HOUR };
      const first = await store.reserve({ windows: [requests, tokens(60, 100)], slots: [] });
      expect(first.ok).toBe(true);
      expect(first.windows.map((w) => slidingUse(w, HOUR))).toEqual([1, 60]);
      const over = await store.reserve({ windows: [requests, tokens(50, 100)], slots: [] });
      expect(over).toMatchObject({ ok: false, refused: { kind: "window", index: 1 } });
      // The request window that did fit was not charged either.
      const after = await store.reserve({ windows: [requests, tokens(40, 100)], slots: [] });
      expect(after.windows.map((w) => slidingUse(w, HOUR))).toEqual([2, 100]);
    });

    it("never admits past the limit under 100 concurrent reservations", async () => {
      const store = await fresh();
      const results = await Promise.all(
        Array.from({ length: 100 }, () => store.reserve({ windows: [tokens(7, 100)], slots: [] })),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(14);
    });

    it("holds at most the concurrency limit and frees a slot on release", async () => {
      const store = await fresh();
      expect((await store.reserve({ windows: [], slots: [slot("a", 2)] })).ok).toBe(true);
      const second = await store.reserve({ windows: [], slots: [slot("b", 2)] });
      expect(second).toMatchObject({ ok: true, slotsHeld: [2] });
      const third = await store.reserve({ windows: [tokens(1, 10)], slots: [slot("c", 2)] });
      expect(third).toMatchObject({ ok: false, refused: { kind: "slot", index: 0 } });
      // A refused slot leaves the window uncharged.
      expect(slidingUse(third.windows[0] as never, HOUR)).toBe(0);
      await store.settleReservation({
        adjustments: [],
        releases: [{ key: "q:{t}:conc", id: "a" }],
        counters: [],
      });
      expect((await store.reserve({ windows: [], slots: [slot("c", 2)] })).ok).toBe(true);
    });

    it("lets a slot that is never released expire by itself", async () => {
      const store = await fresh();
      await store.reserve({ windows: [], slots: [slot("crashed", 1, 300)] });
      expect((await store.reserve({ windows: [], slots: [slot("next", 1, 300)] })).ok).toBe(false);
      await advanceTime(400);
      expect((await store.reserve({ windows: [], slots: [slot("next", 1, 300)] })).ok).toBe(true);
    });

    it("settles a reservation to the exact amount: a refund, then an extra charge", async () => {
      const store = await fresh();
      const reserved = await store.reserve({ windows: [tokens(80, 100)], slots: [] });
      const index = reserved.windows[0]?.index as number;
      const adjust = (delta: number) =>
        store.settleReservation({
          adjustments: [{ key: "q:{t}:tpm", index, windowMs: HOUR, delta }],
          releases: [],
          counters: [],
        });
      await adjust(-50);
      expect((await store.reserve({ windows: [tokens(70, 100)], slots: [] })).ok).toBe(true);
      await adjust(5);
      const full = await store.reserve({ windows: [tokens(0, 100)], slots: [] });
      expect(slidingUse(full.windows[0] as never, HOUR)).toBe(105);
      // A refund larger than what is left never takes the window below zero.
      await adjust(-1_000);
      const empty = await store.reserve({ windows: [tokens(0, 100)], slots: [] });
      expect(slidingUse(empty.windows[0] as never, HOUR)).toBe(0);
    });

    it("adds ledger counters into hash fields", async () => {
      const store = await fresh();
      const fields = new Map([
        ["key|k1|prompt_tokens", 12],
        ["key|k1|requests", 1],
      ]);
      const counters = [{ key: "ledger:{t}:1", fields, ttlMs: HOUR }];
      await store.settleReservation({ adjustments: [], releases: [], counters });
      await store.settleReservation({ adjustments: [], releases: [], counters });
      expect(await store.hashGetAll("ledger:{t}:1")).toEqual(
        new Map([
          ["key|k1|prompt_tokens", "24"],
          ["key|k1|requests", "2"],
        ]),
      );
    });

    it("refuses a negative charge before touching anything", async () => {
      const store = await fresh();
      await expect(store.reserve({ windows: [tokens(-1, 100)], slots: [] })).rejects.toThrow(RangeError);
    });
  });
}
