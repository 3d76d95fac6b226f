import { describe, expect, it } from "vitest";
import { formatDuration } from "../../../src/accounting/index.js";
import { msUntilFits, slidingUse } from "../../../src/store/index.js";

const MINUTE = 60_000;

describe("sliding windows", () => {
  it("weighs the previous window by how much of it still overlaps, rounding up", () => {
    expect(slidingUse({ previous: 100, current: 10, elapsedMs: 15_000, index: 1 }, MINUTE)).toBe(85);
    // One request just before the edge still counts whole just after it: a limit of 1 is never 2.
    expect(slidingUse({ previous: 1, current: 0, elapsedMs: 10, index: 1 }, MINUTE)).toBe(1);
  });

  it("says how long until a request fits: as the previous window slides out, or once this one has", () => {
    // 100 used last window, 0 now, 15 s in: 75 still weigh; 50 more fit once 50 weigh, at 30 s.
    expect(msUntilFits({ previous: 100, current: 0, elapsedMs: 15_000, index: 1 }, MINUTE, 50, 100)).toBe(
      15_000,
    );
    // This window alone is full: wait for it to end, then for half of it to slide out.
    expect(msUntilFits({ previous: 0, current: 100, elapsedMs: 20_000, index: 1 }, MINUTE, 50, 100)).toBe(
      70_000,
    );
    expect(msUntilFits({ previous: 0, current: 10, elapsedMs: 0, index: 1 }, MINUTE, 50, 100)).toBe(0);
    expect(
      msUntilFits({ previous: 0, current: 0, elapsedMs: 0, index: 1 }, MINUTE, 101, 100),
    ).toBeUndefined();
  });
});

describe("OpenAI's reset durations", () => {
  it("reads like the API's: 350ms, 12s, 6m0s, 1h2m3s", () => {
    expect(formatDuration(349.2)).toBe("350ms");
    expect(formatDuration(11_001)).toBe("12s");
    expect(formatDuration(360_000)).toBe("6m0s");
    expect(formatDuration(3_723_000)).toBe("1h2m3s");
  });
});
