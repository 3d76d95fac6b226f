/** Starting the bench's child processes on chosen cores, and reading their CPU time and RSS from /proc. */
import { type ChildProcess, execFileSync, type StdioOptions, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

function commandWorks(command: string, args: readonly string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Pinning needs taskset and a second core; without either, every process floats. */
export const PINNING = availableParallelism() >= 2 && commandWorks("taskset", ["-c", "0", "true"]);
/** The proxy under test gets core 0; the load generator and upstream share core 1. */
export const PROXY_CORE = 0;
export const LOAD_CORE = 1;

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export function pinnedCommand(core: number, command: string, args: readonly string[]): [string, string[]] {
  return PINNING ? ["taskset", ["-c", String(core), command, ...args]] : [command, [...args]];
}

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** SIGTERM, then SIGKILL if it has not exited in time. */
  stop(): Promise<void>;
}

export function wrap(child: ChildProcess): Child {
  if (child.pid === undefined) throw new Error("child process did not start");
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    process: child,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface NodeChildOptions {
  readonly core: number;
  /** The script is compiled JavaScript: run it without the TypeScript loader. */
  readonly compiled?: boolean;
  readonly nodeFlags?: readonly string[];
  readonly ipc?: boolean;
}

/** Runs a script (TypeScript under tsx, unless compiled) in a pinned Node process. */
export function spawnNode(script: URL, args: readonly string[], options: NodeChildOptions): Child {
  const loader = options.compiled ? [] : ["--import", "tsx"];
  const nodeArgs = [...(options.nodeFlags ?? []), ...loader, script.pathname, ...args];
  const [command, argv] = pinnedCommand(options.core, process.execPath, nodeArgs);
  const stdio: StdioOptions = options.ipc
    ? ["ignore", "pipe", "inherit", "ipc"]
    : ["ignore", "pipe", "inherit"];
  return wrap(spawn(command, argv, { stdio }));
}

/** Waits for the child's first stdout line, a JSON object announcing where it listens. */
export function readyLine<T>(child: Child): Promise<T> {
  const stdout = child.process.stdout;
  if (!stdout) throw new Error("child has no stdout pipe");
  return new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(() => reject(new Error("child did not report ready in time")), READY_TIMEOUT_MS);
    child.process.once("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as T);
    });
  });
}

/** The process and its direct children (nginx's workers), found through /proc. */
export function processTree(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat?.[1] === String(pid)) children.push(Number(name));
  }
  return [pid, ...children];
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces). */
function readStat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** User plus system CPU time of the processes, in microseconds. */
export function cpuMicros(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = readStat(pid);
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the command name.
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks / CLOCK_TICKS) * 1e6;
}

/** Resident set size of the processes, in bytes. */
export function rssBytes(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      kb += Number(match?.[1] ?? 0);
    } catch {
      // The process is gone; it holds no memory.
    }
  }
  return kb * 1024;
}

export function openFilesLimit(): number {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return match?.[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(match?.[1] ?? 1024);
  } catch {
    return 1024;
  }
}
