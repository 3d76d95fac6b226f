import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { z } from "zod";

export interface LlamaServerOptions {
  binary: string;
  model: string;
  port: number;
  host?: string;
  slots?: number;
  /** Total context; llama-server splits it evenly between slots. */
  ctxSize?: number;
  threads?: number;
  embeddings?: boolean;
  apiKey?: string;
  alias?: string;
  /** Appended verbatim, for flags this wrapper does not model. */
  extraArgs?: string[];
  /** Resolve only once /health answers 200 (default true). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
  /** Receives every log line of the server; defaults to dropping them. */
  onLog?: (line: string) => void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LlamaServerHandle {
  url: string;
  port: number;
  pid: number;
  args: string[];
  /** Settles when the process has exited, however that happened. */
  exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL when it has not exited after `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** Immediate signal (default SIGKILL), for tests that simulate a crashed node. */
  kill(signal?: NodeJS.Signals): void;
}

export class LlamaServerStartError extends Error {
  override name = "LlamaServerStartError";
}

const healthSchema = z.object({ status: z.literal("ok") });

export function llamaServerArgs(o: LlamaServerOptions): string[] {
  const args = ["-m", o.model, "--host", o.host ?? "127.0.0.1", "--port", String(o.port)];
  args.push("-np", String(o.slots ?? 1), "--metrics", "--slots", "--no-webui");
  if (o.ctxSize !== undefined) args.push("-c", String(o.ctxSize));
  if (o.threads !== undefined) args.push("-t", String(o.threads));
  if (o.embeddings) args.push("--embeddings");
  if (o.apiKey !== undefined) args.push("--api-key", o.apiKey);
  if (o.alias !== undefined) args.push("--alias", o.alias);
  return [...args, ...(o.extraArgs ?? [])];
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200 && healthSchema.safeParse(await res.json()).success;
  } catch {
    return false;
  }
}

function watchExit(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

async function waitHealthy(url: string, exited: Promise<ExitInfo>, timeoutMs: number, tail: string[]) {
  let exit: ExitInfo | null = null;
  void exited.then((e) => {
    exit = e;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit !== null) {
      const { code, signal } = exit;
      throw new LlamaServerStartError(
        `llama-server exited (code ${code}, signal ${signal}) before becoming healthy:\n${tail.join("\n")}`,
      );
    }
    if (await isHealthy(url)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new LlamaServerStartError(
    `llama-server at ${url} not healthy after ${timeoutMs} ms:\n${tail.join("\n")}`,
  );
}

/**
 * Starts one llama-server and hands back a handle that tests and the CLI both use. When it fails to
 * come up, the process is killed and the error carries the server's last log lines.
 */
export async function startLlamaServer(options: LlamaServerOptions): Promise<LlamaServerHandle> {
  const args = llamaServerArgs(options);
  const child = spawn(options.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (err) =>
      reject(new LlamaServerStartError(`cannot start ${options.binary}: ${err.message}`)),
    );
  });
  const tail: string[] = [];
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
    options.onLog?.(line);
  };
  createInterface({ input: child.stdout }).on("line", onLine);
  createInterface({ input: child.stderr }).on("line", onLine);
  await spawned;

  const exited = watchExit(child);
  const host = options.host ?? "127.0.0.1";
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${options.port}`;
  const kill = (signal: NodeJS.Signals = "SIGKILL") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const stop = async (graceMs = 5000): Promise<ExitInfo> => {
    kill("SIGTERM");
    const timer = setTimeout(() => kill("SIGKILL"), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  const handle: LlamaServerHandle = {
    url,
    port: options.port,
    pid: child.pid ?? -1,
    args,
    exited,
    stop,
    kill,
  };
  if (options.waitReady ?? true) {
    try {
      await waitHealthy(url, exited, options.readyTimeoutMs ?? 60_000, tail);
    } catch (err) {
      await stop(1000);
      throw err;
    }
  }
  return handle;
}
