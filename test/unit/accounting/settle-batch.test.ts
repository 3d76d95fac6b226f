import { describe, expect, it } from "vitest";
import { SettleBatch } from "../../../src/accounting/settle-batch.js";
import { MemoryStore, type SettleRequest, type StateStore } from "../../../src/store/index.js";

function counting(store: StateStore): { store: StateStore; sent: SettleRequest[] } {
  const sent: SettleRequest[] = [];
  return {
    sent,
    store: {
      ...store,
      settleReservation: (request) => {
        sent.push(request);
        return store.settleReservation(request);
      },
    } as StateStore,
  };
}

describe("settlements in batches", () => {
  it("sends the calls of one moment in one round trip, with charges and counters summed", async () => {
    const memory = new MemoryStore();
    const { store, sent } = counting(memory);
    const batch = new SettleBatch(store, 10_000, () => undefined);
    for (let i = 0; i < 3; i++) {
      batch.add({
        adjustments: [{ key: "q:{t}:tpm", index: 7, windowMs: 60_000, delta: -10 }],
        releases: [{ key: "q:{t}:conc", id: `r${i}` }],
        counters: [{ key: "ledger:1", fields: new Map([["k|t|m|n|requests", 1]]), ttlMs: 60_000 }],
      });
    }
    await batch.flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.adjustments).toEqual([{ key: "q:{t}:tpm", index: 7, windowMs: 60_000, delta: -30 }]);
    expect(sent[0]?.releases.map((release) => release.id)).toEqual(["r0", "r1", "r2"]);
    expect(await memory.hashGetAll("ledger:1")).toEqual(new Map([["k|t|m|n|requests", "3"]]));
    await batch.flush();
    expect(sent).toHaveLength(1);
    await memory.close();
  });

  it("reports a failed round trip with the number of calls it carried", async () => {
    const memory = new MemoryStore();
    const failing = {
      ...memory,
      settleReservation: () => Promise.reject(new Error("down")),
    } as unknown as StateStore;
    const failures: number[] = [];
    const batch = new SettleBatch(failing, 10_000, (_err, calls) => failures.push(calls));
    batch.add({ adjustments: [], releases: [], counters: [] });
    batch.add({ adjustments: [], releases: [], counters: [] });
    await batch.flush();
    expect(failures).toEqual([2]);
    await memory.close();
  });
});
