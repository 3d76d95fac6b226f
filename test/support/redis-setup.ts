/**
 * vitest globalSetup: one Redis for the whole run, handed to the test workers as FLEETGATE_TEST_REDIS_URL
 * (set here before the workers start, they inherit it). The caller's URL wins; else a Redis answering on
 * 127.0.0.1:6379; else a private redis-server from PATH on a free port, with no persistence, stopped
 * when the run ends. Without any of them the Redis tests fail with what to install (test/support/redis.ts),
 * and the others still run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";
import { NO_TEST_REDIS, TEST_REDIS_ENV } from "./redis.js";

export interface TestRedis {
  readonly url: string;
  /** Whether this setup started the server (and `stop` ends it) or found one running. */
  readonly private: boolean;
  stop(): Promise<void>;
}

export interface TestRedisOptions {
  /** Where a Redis that is already running is looked for. */
  readonly defaultPort?: number;
  readonly command?: string;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env[TEST_REDIS_ENV]) return undefined;
  const redis = await resolveTestRedis();
  if (!redis) {
    process.stderr.write(`[test redis] ${NO_TEST_REDIS}\n`);
    return undefined;
  }
  if (redis.private) process.stderr.write(`[test redis] started a private redis-server at ${redis.url}\n`);
  process.env[TEST_REDIS_ENV] = redis.url;
  return () => redis.stop();
}

/** The running Redis on `defaultPort`, else a private one; undefined when there is no `command` to start. */
export async function resolveTestRedis(options: TestRedisOptions = {}): Promise<TestRedis | undefined> {
  const port = options.defaultPort ?? 6379;
  // PING rather than a bare connect: a port taken by something else, or a Redis that wants a
  // password, would fail every test that used it.
  if (await answersPing(port)) {
    return { url: `redis://127.0.0.1:${port}`, private: false, stop: async () => {} };
  }
  return startPrivateRedis(options.command ?? "redis-server");
}

/** Whether a Redis without a password answers PING on the loopback port, within a second. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

async function startPrivateRedis(command: string): Promise<TestRedis | undefined> {
  let lastFailure = "";
  // A free port can be taken between asking for it and redis-server binding it: try another.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), "fleetgate-test-redis-"));
    const args = [
      "--port",
      `${port}`,
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--loglevel",
      "warning",
    ];
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const output: string[] = [];
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const started = await untilAnswering(child, port);
    if (started === "ready") return running(child, port, dir);
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    if (started === "missing") return undefined;
    lastFailure = `${command} ${args.join(" ")} ${started}:\n${output.join("").trim()}`;
  }
  throw new Error(`could not start a private redis-server for the tests: ${lastFailure}`);
}

type StartResult = "ready" | "missing" | "exited" | "did not answer PING in time";

async function untilAnswering(child: ChildProcess, port: number): Promise<StartResult> {
  let ended: StartResult | undefined;
  child.once("error", (error: NodeJS.ErrnoException) => {
    ended = error.code === "ENOENT" ? "missing" : "exited";
  });
  child.once("exit", () => {
    ended ??= "exited";
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (ended) return ended;
    if (await answersPing(port)) return "ready";
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return "did not answer PING in time";
}

function running(child: ChildProcess, port: number, dir: string): TestRedis {
  // A run that dies without its teardown must not leave the server behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    private: true,
    stop: async () => {
      process.off("exit", killOnExit);
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM, then SIGKILL if it is still there after STOP_TIMEOUT_MS; resolves once it has exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
