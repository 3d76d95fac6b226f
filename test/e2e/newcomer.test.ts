/**
 * The README's two commands in a fresh clone of this repository's HEAD (commit first to test a change),
 * as a newcomer runs them: on a Node older than engines admits, each must say what to do; on the
 * pinned Node, `npm ci` then `npm run demo` must give an answering gateway.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_FLOOR, unsupportedNodeMessage } from "../../src/node-support.js";
import { freePort } from "../support/ports.js";
import { interrupt, killAll, olderNode, pinnedNode, runUnder, startUnder } from "./node-runtimes.js";

// The tests run in order: the older Node's demo needs what the pinned Node's npm ci installed.
const repo = fileURLToPath(new URL("../..", import.meta.url));
let work = "";
let clone = "";

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "fleetgate-newcomer-"));
  clone = join(work, "fleetgate");
  await promisify(execFile)("git", ["clone", "--quiet", repo, clone], { timeout: 60_000 });
});

afterAll(async () => {
  killAll();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("a newcomer's first commands in a fresh clone (slow: installs the dependencies)", () => {
  it("on an older Node, npm ci refuses with npm's engine message and installs nothing", async () => {
    const node = await olderNode();
    const result = await runUnder(node, "npm", ["ci", "--no-audit", "--no-fund"], {
      cwd: clone,
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).not.toBe(0);
    expect(result.stderr).toContain("EBADENGINE");
    expect(result.stderr).toContain(`Required: {"node":">=${NODE_FLOOR}"}`);
    expect(existsSync(join(clone, "node_modules"))).toBe(false);
  });

  it("on the pinned Node, npm ci installs", async () => {
    const result = await runUnder(
      await pinnedNode(),
      "npm",
      ["ci", "--prefer-offline", "--no-audit", "--no-fund"],
      {
        cwd: clone,
        timeoutMs: 240_000,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    process.stderr.write(`[newcomer] npm ci in a fresh clone took ${(result.ms / 1000).toFixed(1)} s\n`);
  });

  // As after switching to another shell, or installing with engine-strict off: the CLI itself must say it.
  it("on an older Node, with the dependencies installed, npm run demo exits 1 with one line saying which Node to get", async () => {
    const node = await olderNode();
    const version = (await promisify(execFile)(node, ["--version"])).stdout.trim();
    const result = await runUnder(node, "npm", ["run", "demo"], { cwd: clone, timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`fleetgate: ${unsupportedNodeMessage(version)}`);
  });

  it("on the pinned Node, npm run demo answers a chat request and /readyz, then stops on Ctrl+C", async () => {
    const port = await freePort();
    const config = await demoConfig();
    const demo = startUnder(
      await pinnedNode(),
      "npm",
      ["run", "demo", "--", "--port", `${port}`, "--config", config],
      clone,
    );
    let output = "";
    demo.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    demo.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const base = `http://127.0.0.1:${port}`;
    expect(await untilReady(`${base}/readyz`, 60_000), output).toBe(true);

    const chat = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "Hello!" }], max_tokens: 5 }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(chat.status, await chat.clone().text()).toBe(200);
    const body = (await chat.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    expect((await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) })).status).toBe(200);

    expect(await interrupt(demo, 15_000), "the demo and its nodes exit on Ctrl+C").toBe(true);
    await expect(fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });
});

/**
 * The clone's own gateway.config.yaml with its nodes moved to free ports: the fixed ones (9001-9004)
 * may belong to a demo someone else runs on this machine.
 */
async function demoConfig(): Promise<string> {
  let text = await readFile(join(clone, "gateway.config.yaml"), "utf8");
  for (const fixed of text.match(/127\.0\.0\.1:\d+/g) ?? []) {
    text = text.replace(fixed, `127.0.0.1:${await freePort()}`);
  }
  const path = join(work, "demo.config.yaml");
  await writeFile(path, text);
  return path;
}

async function untilReady(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}
