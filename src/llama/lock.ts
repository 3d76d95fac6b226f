import { mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";

export interface LockOptions {
  /** Called once when another process holds the lock, so the user knows why nothing happens. */
  onWait?: (holderPid: number) => void;
  pollMs?: number;
  timeoutMs?: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM means the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function tryAcquire(path: string): Promise<number | null> {
  try {
    const fh = await open(path, "wx");
    await fh.writeFile(String(process.pid));
    await fh.close();
    return null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    // A lock whose writer died (crash, SIGKILL, machine reboot) must not block builds forever.
    if (Number.isFinite(holder) && holder > 0 && !isAlive(holder)) {
      await rm(path, { force: true });
      return tryAcquire(path);
    }
    // An empty file is a holder between open and write: treat it as alive and wait.
    return Number.isFinite(holder) ? holder : 0;
  }
}

/**
 * Runs `fn` while holding an exclusive lock file (O_EXCL create + holder pid), so that parallel test
 * workers or two terminals never clone or build into the same directory at once.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60_000);
  let warned = false;
  for (;;) {
    const holder = await tryAcquire(path);
    if (holder === null) break;
    if (!warned) {
      options.onWait?.(holder);
      warned = true;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${path} held by pid ${holder}`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
