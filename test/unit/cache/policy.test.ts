import { describe, expect, it } from "vitest";
import { cacheDirectives, uncacheableReason } from "../../../src/cache/index.js";

describe("Cache-Control on a request", () => {
  it("reads no-cache, no-store and max-age, whatever the case and spacing", () => {
    expect(cacheDirectives(undefined)).toEqual({ noCache: false, noStore: false, maxAgeS: undefined });
    expect(cacheDirectives("No-Cache")).toMatchObject({ noCache: true, noStore: false });
    expect(cacheDirectives("no-store , max-age=60")).toEqual({ noCache: false, noStore: true, maxAgeS: 60 });
    expect(cacheDirectives('max-age="5"').maxAgeS).toBe(5);
    expect(cacheDirectives("max-age=60, max-age=10").maxAgeS).toBe(10);
  });

  it("ignores a max-age that is not a number of seconds", () => {
    expect(cacheDirectives("max-age=-1").maxAgeS).toBeUndefined();
    expect(cacheDirectives("max-age=soon").maxAgeS).toBeUndefined();
    expect(cacheDirectives("max-age").maxAgeS).toBeUndefined();
  });
});

describe("what may be cached", () => {
  it("in deterministic mode: temperature 0 or a seed", () => {
    expect(uncacheableReason("deterministic", { temperature: 0 })).toBeUndefined();
    expect(uncacheableReason("deterministic", { temperature: 1, seed: 3 })).toBeUndefined();
    expect(uncacheableReason("deterministic", {})).toBeDefined();
    expect(uncacheableReason("deterministic", { temperature: 0.2 })).toBeDefined();
  });

  it("in all mode: everything but log probabilities", () => {
    expect(uncacheableReason("all", { temperature: 1.5 })).toBeUndefined();
    expect(uncacheableReason("all", { logprobs: true })).toBeDefined();
    expect(uncacheableReason("deterministic", { temperature: 0, n_probs: 3 })).toBeDefined();
  });
});
