import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { withFileLock } from "../../../src/llama/lock.js";

describe("withFileLock", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs holders one at a time", async () => {
    dir = await mkdtemp(join(tmpdir(), "fg-lock-"));
    const lock = join(dir, "locks", "x.lock");
    const events: string[] = [];
    const job = (name: string) =>
      withFileLock(
        lock,
        async () => {
          events.push(`${name}+`);
          await new Promise((r) => setTimeout(r, 30));
          events.push(`${name}-`);
        },
        { pollMs: 5 },
      );
    await Promise.all([job("a"), job("b")]);
    // Either may win the race for the lock; what matters is that they never overlap.
    const [first, second] = events[0] === "a+" ? ["a", "b"] : ["b", "a"];
    expect(events).toEqual([`${first}+`, `${first}-`, `${second}+`, `${second}-`]);
  });

  it("takes over a lock whose holder is dead", async () => {
    dir = await mkdtemp(join(tmpdir(), "fg-lock-"));
    const lock = join(dir, "x.lock");
    // Pids are capped well below this on Linux, so no live process owns it.
    await writeFile(lock, "999999999");
    await expect(withFileLock(lock, async () => "ran", { timeoutMs: 1000 })).resolves.toBe("ran");
  });

  it("gives up after the timeout while a live process holds it", async () => {
    dir = await mkdtemp(join(tmpdir(), "fg-lock-"));
    const lock = join(dir, "x.lock");
    await writeFile(lock, String(process.pid));
    const waits: number[] = [];
    await expect(
      withFileLock(lock, async () => "ran", { timeoutMs: 50, pollMs: 10, onWait: (pid) => waits.push(pid) }),
    ).rejects.toThrow(/timed out waiting for lock/);
    expect(waits).toEqual([process.pid]);
  });
});
