import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export class CommandError extends Error {
  override name = "CommandError";
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly tail: string[],
  ) {
    super(message);
  }
}

export interface RunOptions {
  cwd?: string;
  /** Called for every output line (stdout and stderr interleaved as they arrive). */
  onLine?: (line: string) => void;
  /** Lines kept for the error message when the command fails. */
  tailLines?: number;
}

/**
 * Runs a command to completion and resolves with its last `tailLines` lines. On failure the error carries the last lines of output, because a
 * compiler error scrolled past minutes ago is useless without them.
 */
export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<string[]> {
  const keep = options.tailLines ?? 40;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > keep) tail.shift();
      options.onLine?.(line);
    };
    createInterface({ input: child.stdout }).on("line", onLine);
    createInterface({ input: child.stderr }).on("line", onLine);
    child.on("error", (err: NodeJS.ErrnoException) => {
      const msg = err.code === "ENOENT" ? `${cmd}: command not found on PATH` : `${cmd}: ${err.message}`;
      reject(new CommandError(msg, null, tail));
    });
    child.on("close", (code, signal) => {
      if (code === 0) resolve(tail);
      else {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const detail = tail.length > 0 ? `\n--- last output ---\n${tail.join("\n")}` : "";
        reject(new CommandError(`${cmd} ${args.join(" ")} ${how}${detail}`, code, tail));
      }
    });
  });
}

/** First line of `<cmd> --version`, or null when the command is missing or broken. */
export async function probeVersion(cmd: string, versionArg = "--version"): Promise<string | null> {
  try {
    const out = await run(cmd, [versionArg], { tailLines: 5 });
    return out[0] ?? "";
  } catch {
    return null;
  }
}
