import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.js";
import { AdmissionQueue } from "../../../src/resilience/index.js";

const never = new AbortController().signal;
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A pool of `slots` that requests take when admitted and give back when done. */
function pool(slots: number) {
  let busy = 0;
  return {
    isSaturated: () => busy >= slots,
    take: () => (busy += 1),
    give: () => (busy -= 1),
  };
}

describe("AdmissionQueue", () => {
  it("admits at once while there is capacity", async () => {
    const queue = new AdmissionQueue({ maxQueue: 2 });
    await expect(queue.admit(() => false, 1000, never, "a")).resolves.toBeUndefined();
    expect(queue.length).toBe(0);
  });

  it("lets waiters through in FIFO order, one per notify", async () => {
    const queue = new AdmissionQueue({ maxQueue: 10 });
    const nodes = pool(1);
    nodes.take();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) =>
      queue.admit(nodes.isSaturated, 1000, never, "a").then(() => {
        nodes.take();
        order.push(n);
      }),
    );
    expect(queue.length).toBe(3);
    queue.notify(); // still saturated: nobody moves
    await tick();
    expect(order).toEqual([]);
    for (let i = 0; i < 3; i++) {
      nodes.give();
      queue.notify();
      await tick();
    }
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
  });

  it("does not let a newcomer overtake an earlier waiter that could go", async () => {
    const queue = new AdmissionQueue({ maxQueue: 10 });
    const nodes = pool(1);
    nodes.take();
    const first = queue.admit(nodes.isSaturated, 1000, never, "a");
    nodes.give(); // capacity appeared, no notify yet
    const second = queue.admit(nodes.isSaturated, 1000, never, "a");
    expect(queue.length).toBe(2);
    queue.notify();
    await first;
    expect(queue.length).toBe(1);
    queue.notify();
    await second;
  });

  it("skips waiters whose own nodes are still full", async () => {
    const queue = new AdmissionQueue({ maxQueue: 10 });
    const busyModel = pool(0);
    const freeModel = pool(1);
    freeModel.take();
    const blocked = queue.admit(busyModel.isSaturated, 1000, never, "a");
    const free = queue.admit(freeModel.isSaturated, 1000, never, "a");
    freeModel.give();
    queue.notify();
    await free;
    expect(queue.length).toBe(1);
    // A newcomer for an idle model goes straight through despite the queue.
    await queue.admit(() => false, 1000, never, "a");
    queue.rejectAll(new Error("shutting down"));
    await expect(blocked).rejects.toThrow("shutting down");
  });

  it("answers overloaded (429) with Retry-After when the queue is at its bound", async () => {
    const queue = new AdmissionQueue({ maxQueue: 2 });
    const waiting = [queue.admit(() => true, 1000, never, "a"), queue.admit(() => true, 1000, never, "a")];
    const err = await queue.admit(() => true, 1000, never, "a").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: "overloaded", status: 429, retryAfterSeconds: 1 });
    queue.rejectAll(new Error("done"));
    await Promise.allSettled(waiting);
  });

  it("answers overloaded_timeout (503) when the wait runs out, and leaves the queue", async () => {
    const queue = new AdmissionQueue({ maxQueue: 2 });
    const started = performance.now();
    const err = await queue.admit(() => true, 40, never, "a").catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(err).toMatchObject({ status: 503, code: "overloaded_timeout" });
    expect((err as GatewayError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(queue.length).toBe(0);
  });

  it("removes an aborted waiter at once and rejects with the abort reason", async () => {
    const queue = new AdmissionQueue({ maxQueue: 2 });
    const controller = new AbortController();
    const waiting = queue.admit(() => true, 10_000, controller.signal, "a");
    expect(queue.length).toBe(1);
    controller.abort(new Error("client left"));
    expect(queue.length).toBe(0);
    await expect(waiting).rejects.toThrow("client left");
    await expect(queue.admit(() => false, 1000, controller.signal, "a")).rejects.toThrow("client left");
  });

  it("estimates Retry-After from how fast the queue has been draining", async () => {
    let now = 0;
    const queue = new AdmissionQueue({ maxQueue: 2, clock: () => now });
    let saturated = true;
    for (let i = 0; i < 3; i++) {
      const waiting = queue.admit(() => saturated, 10_000, never, "a");
      now += 4000;
      saturated = false;
      queue.notify();
      await waiting;
      saturated = true;
    }
    const waiting = [
      queue.admit(() => true, 10_000, never, "a"),
      queue.admit(() => true, 10_000, never, "a"),
    ];
    const err = await queue.admit(() => true, 10_000, never, "a").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "overloaded", retryAfterSeconds: 12 });
    queue.rejectAll(new Error("done"));
    await Promise.allSettled(waiting);
  });
  describe("fair shares between owners", () => {
    it("lets a newcomer take the newest place of an owner holding two or more places more", async () => {
      const queue = new AdmissionQueue({ maxQueue: 4 });
      const flood = [1, 2, 3, 4].map(() =>
        queue.admit(() => true, 10_000, never, "hog").catch((e: unknown) => e),
      );
      const refused = await queue.admit(() => true, 10_000, never, "hog").catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: "overloaded", status: 429 });
      const other = queue.admit(() => true, 10_000, never, "other");
      expect(queue.length).toBe(4);
      // The hog's newest waiter gave up its place: it is told to back off like any refusal.
      expect(await flood[3]).toMatchObject({ code: "overloaded" });
      const second = queue.admit(() => true, 10_000, never, "other");
      expect(await flood[2]).toMatchObject({ code: "overloaded" });
      // Now two each: the third of "other" would only swap places, so it is refused.
      await expect(queue.admit(() => true, 10_000, never, "other")).rejects.toMatchObject({
        code: "overloaded",
      });
      queue.rejectAll(new Error("done"));
      await Promise.allSettled([...flood, other, second]);
    });

    it("lets owners through by turn, so one owner's backlog does not go first", async () => {
      const queue = new AdmissionQueue({ maxQueue: 10 });
      const nodes = pool(1);
      nodes.take();
      const order: string[] = [];
      const wait = (owner: string) =>
        queue.admit(nodes.isSaturated, 10_000, never, owner).then(() => {
          nodes.take();
          order.push(owner);
        });
      const waits = [wait("hog"), wait("hog"), wait("hog"), wait("hog"), wait("b"), wait("c")];
      for (let i = 0; i < waits.length; i++) {
        nodes.give();
        queue.notify();
        await tick();
      }
      await Promise.all(waits);
      expect(order).toEqual(["hog", "b", "c", "hog", "hog", "hog"]);
    });
  });
});
