import { describe, expect, it } from "vitest";
import { MemoryStore, observeStoreErrors } from "../../../src/store/index.js";
import { runStoreContract } from "./store-contract.js";

let clock = 1_700_000_000_000;

// The decorated store must still be a store in every way the port promises.
runStoreContract(
  "observeStoreErrors(MemoryStore)",
  () => observeStoreErrors(new MemoryStore({ now: () => clock }), () => undefined),
  (ms) => {
    clock += ms;
  },
);

describe("observeStoreErrors", () => {
  it("passes every operation through and reports the failed ones before the caller sees them", async () => {
    const failures: string[] = [];
    const store = observeStoreErrors(new MemoryStore(), (operation) => failures.push(operation));
    await store.set("greeting", "hello");
    expect(await store.get("greeting")).toBe("hello");
    expect(await store.increment("count", 2)).toBe(2);
    // A string key used as a hash: the store refuses, as Redis would.
    await expect(store.hashGet("greeting", "field")).rejects.toThrow(/WRONGTYPE/);
    await expect(store.increment("greeting", 1)).rejects.toThrow();
    expect(failures).toEqual(["hashGet", "increment"]);
    expect(store.kind).toBe("memory");
    await store.close();
  });
});
