import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_HOOK_TIMEOUT_MS, launchChromium } from "../support/browser.js";
import { startFleet, type TestFleet } from "../support/fleet.js";

/**
 * A chat UI on another origin, in a real headless Chromium: its fetch of the gateway goes through a
 * preflight (authorization and the SDK's x-stainless-* headers are not CORS-safelisted) and streams.
 */

const PAGE = "<!doctype html><title>chat</title>";

interface PageResult {
  readonly ok?: boolean;
  readonly status?: number;
  readonly chunks?: number;
  readonly done?: boolean;
  readonly requestId?: string | null;
  readonly error?: string;
}

describe("a browser page on another origin", () => {
  let browser: Browser;
  let site: Server;
  let origin: string;
  const fleets: TestFleet[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    site = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(PAGE));
    await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  }, BROWSER_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(fleets.map((fleet) => fleet.close()));
    site?.close();
  });

  async function streamFromPage(origins: string[]): Promise<PageResult> {
    const fleet = await startFleet([{ model: "tiny", tokensPerSecond: 500 }], {
      config: { server: { cors: { origins } } },
    });
    fleets.push(fleet);
    const page = await browser.newPage();
    try {
      await page.goto(origin);
      return await page.evaluate(async (url): Promise<PageResult> => {
        try {
          const res = await fetch(url, {
            method: "POST",
            headers: {
              authorization: "Bearer unused",
              "content-type": "application/json",
              "x-stainless-lang": "js",
            },
            body: JSON.stringify({
              model: "tiny",
              stream: true,
              max_tokens: 8,
              messages: [{ role: "user", content: "hello" }],
            }),
          });
          const text = await res.text();
          return {
            ok: res.ok,
            status: res.status,
            chunks: text.split("\n").filter((line) => line.startsWith("data: {")).length,
            done: text.includes("data: [DONE]"),
            requestId: res.headers.get("x-request-id"),
          };
        } catch (err) {
          return { error: String(err) };
        }
      }, `${fleet.baseURL}/chat/completions`);
    } finally {
      await page.close();
    }
  }

  it("streams a chat when its origin is allowed, and reads the exposed request id", async () => {
    const result = await streamFromPage([origin]);
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ ok: true, status: 200, done: true });
    expect(result.chunks).toBeGreaterThan(1);
    expect(result.requestId).toMatch(/.+/);
  });

  it("fails to fetch when no origin is configured, as before", async () => {
    const result = await streamFromPage([]);
    expect(result.error).toContain("Failed to fetch");
  });
});
