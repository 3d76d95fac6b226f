import { describe, expect, it } from "vitest";
import { raceWithHedge, TtftTracker } from "../../../src/resilience/index.js";

const never = new AbortController().signal;

/** A side that resolves (or rejects) after `ms` unless its signal aborts first. */
function side(ms: number, result: string | Error) {
  const seen: { signal?: AbortSignal; started: boolean } = { started: false };
  const run = (signal: AbortSignal) => {
    seen.signal = signal;
    seen.started = true;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => (result instanceof Error ? reject(result) : resolve(result)), ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new Error("aborted"));
      });
    });
  };
  return { run, seen };
}

describe("TtftTracker", () => {
  it("knows nothing until enough samples, then gives the p95", () => {
    const tracker = new TtftTracker({ minSamples: 20 });
    for (let i = 1; i <= 19; i++) tracker.observe("a", i);
    expect(tracker.hedgeDelayMs("a")).toBeUndefined();
    for (let i = 20; i <= 100; i++) tracker.observe("a", i);
    expect(tracker.hedgeDelayMs("a")).toBe(95);
    expect(tracker.hedgeDelayMs("b")).toBeUndefined();
  });

  it("keeps a bounded window of the newest samples", () => {
    const tracker = new TtftTracker({ reservoir: 10, minSamples: 5 });
    for (let i = 0; i < 1000; i++) tracker.observe("a", 10_000);
    for (let i = 0; i < 10; i++) tracker.observe("a", 50);
    expect(tracker.hedgeDelayMs("a")).toBe(50);
    tracker.remove("a");
    expect(tracker.hedgeDelayMs("a")).toBeUndefined();
  });
});

describe("raceWithHedge", () => {
  it("does not hedge when the primary is fast", async () => {
    const primary = side(5, "primary");
    const hedge = side(5, "hedge");
    const result = await raceWithHedge(primary.run, hedge.run, 50, never);
    expect(result).toEqual({ value: "primary", winner: "primary" });
    await new Promise((resolve) => setTimeout(resolve, 70));
    expect(hedge.seen.started).toBe(false);
  });

  it("hedges a slow primary; the hedge wins and the primary is aborted", async () => {
    const primary = side(500, "primary");
    const hedge = side(10, "hedge");
    const started = performance.now();
    const result = await raceWithHedge(primary.run, hedge.run, 20, never);
    expect(result).toEqual({ value: "hedge", winner: "hedge" });
    expect(performance.now() - started).toBeLessThan(200);
    expect(primary.seen.signal?.aborted).toBe(true);
    expect(hedge.seen.signal?.aborted).toBe(false);
  });

  it("aborts the hedge when the primary wins after all", async () => {
    const primary = side(40, "primary");
    const hedge = side(500, "hedge");
    const result = await raceWithHedge(primary.run, hedge.run, 10, never);
    expect(result.winner).toBe("primary");
    expect(hedge.seen.signal?.aborted).toBe(true);
  });

  it("does not hedge when the primary fails first; the failure is failover's business", async () => {
    const primary = side(5, new Error("node down"));
    const hedge = side(5, "hedge");
    await expect(raceWithHedge(primary.run, hedge.run, 30, never)).rejects.toThrow("node down");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hedge.seen.started).toBe(false);
  });

  it("keeps waiting for the hedge when the primary fails after it started", async () => {
    const primary = side(30, new Error("node down"));
    const hedge = side(50, "hedge");
    await expect(raceWithHedge(primary.run, hedge.run, 10, never)).resolves.toEqual({
      value: "hedge",
      winner: "hedge",
    });
  });

  it("rejects with the primary's error when both fail", async () => {
    const primary = side(30, new Error("primary down"));
    const hedge = side(10, new Error("hedge down"));
    await expect(raceWithHedge(primary.run, hedge.run, 10, never)).rejects.toThrow("primary down");
  });

  it("asks before hedging, and never hedges without a delay", async () => {
    const primary = side(60, "primary");
    const hedge = side(5, "hedge");
    const declined = await raceWithHedge(primary.run, hedge.run, 10, never, { shouldHedge: () => false });
    expect(declined.winner).toBe("primary");
    expect(hedge.seen.started).toBe(false);
    const unknown = await raceWithHedge(side(20, "p").run, hedge.run, undefined, never);
    expect(unknown.winner).toBe("primary");
    expect(hedge.seen.started).toBe(false);
  });

  it("hands a loser's late value to discard", async () => {
    const discarded: string[] = [];
    const stubborn = () => new Promise<string>((resolve) => setTimeout(resolve, 40, "late primary"));
    const result = await raceWithHedge(stubborn, side(5, "hedge").run, 10, never, {
      discard: (value) => discarded.push(value),
    });
    expect(result.winner).toBe("hedge");
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(discarded).toEqual(["late primary"]);
  });

  it("aborts both sides when the caller's signal aborts", async () => {
    const controller = new AbortController();
    const primary = side(500, "primary");
    const hedge = side(500, "hedge");
    const race = raceWithHedge(primary.run, hedge.run, 10, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 30));
    controller.abort(new Error("client left"));
    await expect(race).rejects.toThrow("aborted");
    expect(primary.seen.signal?.aborted).toBe(true);
    expect(hedge.seen.signal?.aborted).toBe(true);
  });
});
