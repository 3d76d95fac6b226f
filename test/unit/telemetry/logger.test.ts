import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { batchedLines, createLogger } from "../../../src/telemetry/index.js";

function capture(level: Parameters<typeof createLogger>[0]) {
  const lines: string[] = [];
  return { lines, log: createLogger(level, (line) => lines.push(line)) };
}

describe("createLogger", () => {
  it("writes one JSON object per line: time, level, msg, then the fields", () => {
    const { lines, log } = capture("info");
    log.info('said "hi"', { node: "n-1", count: 2, nothing: undefined, nested: { ok: true } });
    log.warn("bare");
    expect(lines.every((line) => line.endsWith("\n"))).toBe(true);
    const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      level: "info",
      msg: 'said "hi"',
      node: "n-1",
      count: 2,
      nested: { ok: true },
    });
    expect(Object.keys(first ?? {}).slice(0, 3)).toEqual(["time", "level", "msg"]);
    expect(second).toMatchObject({ level: "warn", msg: "bare" });
    expect(Math.abs(Date.parse(String(second?.time)) - Date.now())).toBeLessThan(5000);
  });

  it("drops lines below its level, and everything when silent", () => {
    const warn = capture("warn");
    warn.log.info("no");
    warn.log.debug("no");
    warn.log.error("yes", {});
    expect(warn.lines.map((line) => JSON.parse(line).msg)).toEqual(["yes"]);
    const silent = capture("silent");
    silent.log.error("no");
    expect(silent.lines).toEqual([]);
  });
});

describe("batchedLines", () => {
  it("hands the lines of one turn to the sink as one chunk, in order", async () => {
    const chunks: string[] = [];
    const write = batchedLines((chunk) => chunks.push(chunk));
    write("a\n");
    write("b\n");
    expect(chunks).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks).toEqual(["a\nb\n"]);
    write("c\n");
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks).toEqual(["a\nb\n", "c\n"]);
  });

  it("does not hold more than 64 KiB", () => {
    const chunks: string[] = [];
    const write = batchedLines((chunk) => chunks.push(chunk));
    write(`${"x".repeat(70_000)}\n`);
    expect(chunks).toHaveLength(1);
  });

  it("writes what is pending when the process exits at once", () => {
    const logger = fileURLToPath(new URL("../../../src/telemetry/logger.ts", import.meta.url));
    const script = `import { createLogger } from ${JSON.stringify(logger)}; createLogger("info").info("last words"); process.exit(0);`;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stderr)).toMatchObject({ level: "info", msg: "last words" });
  });
});
