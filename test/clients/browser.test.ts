import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser.js";
import { CHAT_MODEL, type ClientRig, GREEDY, onBoth, startClientRig } from "./rig.js";

/**
 * A chat page on another origin, in headless Chromium, streaming a chat with the headers the openai
 * SDK sends (so the browser preflights): straight at llama-server, which answers CORS itself, and
 * through the gateway (server.cors.origins), with the same streamed text.
 */
const PAGE = "<!doctype html><title>chat</title>";

interface PageResult {
  readonly status?: number;
  readonly text?: string;
  readonly done?: boolean;
  readonly error?: string;
}

let rig: ClientRig;
let browser: Browser;
let site: Server;
let origin: string;
beforeAll(async () => {
  [rig, browser] = await Promise.all([startClientRig(), launchChromium()]);
  site = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(PAGE));
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  site?.close();
  await rig?.close();
});

describe("a browser page on another origin", () => {
  it("streams the same chat from llama-server and through the gateway", async () => {
    const { direct, gateway } = await onBoth(rig, async (target) => {
      const page = await browser.newPage();
      try {
        await page.goto(origin);
        const body = {
          model: CHAT_MODEL,
          stream: true,
          max_tokens: 10,
          messages: [{ role: "user", content: "Write one sentence about the sea." }],
          ...GREEDY,
        };
        return await page.evaluate(
          async ({ url, body }): Promise<PageResult> => {
            try {
              const res = await fetch(url, {
                method: "POST",
                headers: {
                  authorization: "Bearer unused",
                  "content-type": "application/json",
                  "x-stainless-lang": "js",
                },
                body: JSON.stringify(body),
              });
              const reader = res.body?.getReader();
              const decoder = new TextDecoder();
              let raw = "";
              for (;;) {
                const next = await reader?.read();
                if (!next || next.done) break;
                raw += decoder.decode(next.value, { stream: true });
              }
              let text = "";
              for (const line of raw.split("\n")) {
                if (!line.startsWith("data: {")) continue;
                const chunk = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] };
                text += chunk.choices?.[0]?.delta?.content ?? "";
              }
              return { status: res.status, text, done: raw.includes("data: [DONE]") };
            } catch (err) {
              return { error: String(err) };
            }
          },
          { url: `${target.chatURL}/chat/completions`, body },
        );
      } finally {
        await page.close();
      }
    });
    expect(direct.error).toBeUndefined();
    expect(gateway).toEqual(direct);
    expect(gateway.status).toBe(200);
    expect(gateway.done).toBe(true);
    expect(gateway.text?.length).toBeGreaterThan(0);
  });
});
