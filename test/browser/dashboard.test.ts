import { createHash } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_HOOK_TIMEOUT_MS, launchChromium } from "../support/browser.js";
import { postJson, startFleet, TEST_ADMIN_TOKEN, type TestFleet } from "../support/fleet.js";

/** The dashboard in a real headless Chromium, against a running fleet of simulated nodes. */

const API_KEY = "dashboard-test-key-0123456789";
const REGIONS = ["fra", "iad", "sin"];
const DOWN_WITHIN_MS = 5000;
// The page redraws every second; vitest's default poll gives up after one, too soon on a loaded machine.
const REDRAWN = { timeout: 5000 };

describe("the dashboard in a browser", () => {
  let fleet: TestFleet;
  let browser: Browser;
  let dashboard: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    fleet = await startFleet(
      REGIONS.map(() => ({ model: "tiny", slots: 2, tokensPerSecond: 400 })),
      {
        nodeConfig: REGIONS.map((region) => ({ region })),
        config: {
          auth: {
            keys: [
              {
                id: "web-app",
                tenant: "acme",
                key_sha256: createHash("sha256").update(API_KEY).digest("hex"),
              },
            ],
          },
        },
      },
    );
    dashboard = `${fleet.gateway.adminUrl}/dashboard`;
  }, BROWSER_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await fleet?.close();
  });

  async function open(options: Parameters<Browser["newContext"]>[0] = {}): Promise<Page> {
    const context = await browser.newContext(options);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(dashboard);
    return page;
  }

  const nodeState = (page: Page, id: string) => page.locator(`tr[data-node="${id}"] td.state`).textContent();
  const listedNodes = (page: Page) =>
    page
      .locator("#nodes tbody tr[data-node]")
      .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-node")));

  it("without the token shows the login form, and its data answers 401", async () => {
    const page = await open();
    await page.locator("#login").waitFor({ state: "visible" });
    expect(await page.locator("#board").isHidden()).toBe(true);
    const state = await page.request.get(`${dashboard}/state`);
    expect(state.status()).toBe(401);
    expect(((await state.json()) as { error: { code: string } }).error.code).toBe("admin_unauthorized");

    await page.fill("#token", "not-the-admin-token-0123");
    await page.click("#login-form button[type=submit]");
    await expect.poll(() => page.locator("#login-error").textContent(), REDRAWN).toMatch(/Not accepted/);
    expect(await page.locator("#board").isHidden()).toBe(true);
    expect(await page.context().cookies()).toEqual([]);
  });

  it("logs in through the form, lists every node, counts traffic and shows a killed node down within 5 s", async () => {
    const page = await open();
    await page.fill("#token", TEST_ADMIN_TOKEN);
    await page.click("#login-form button[type=submit]");
    await page.locator("#board").waitFor({ state: "visible" });
    expect(page.url()).toBe(dashboard);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({
      name: "fleetgate_dashboard",
      path: "/dashboard",
      httpOnly: true,
      sameSite: "Strict",
    });
    expect(cookie?.value).not.toContain(TEST_ADMIN_TOKEN);

    await expect.poll(() => listedNodes(page), REDRAWN).toEqual(["node-0", "node-1", "node-2"]);
    await expect.poll(() => nodeState(page, "node-0"), REDRAWN).toBe("healthy");
    expect(await page.locator('tr[data-node="node-1"] td:nth-child(4)').textContent()).toBe("iad");

    const calls = 6;
    for (let i = 0; i < calls; i++) {
      const reply = await postJson(
        `${fleet.baseURL}/chat/completions`,
        { model: "tiny", messages: [{ role: "user", content: `hello ${i}` }], max_tokens: 8 },
        { headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` } },
      );
      expect(reply.status).toBe(200);
      await reply.text();
    }
    await expect
      .poll(() => page.locator('#usage-tenants tr[data-name="acme"] td.requests').textContent(), REDRAWN)
      .toBe(String(calls));
    expect(await page.locator('#usage-keys tr[data-name="web-app"] td.requests').textContent()).toBe(
      String(calls),
    );
    expect(await page.locator('[data-card="requests"] .value').textContent()).toBe(String(calls));
    expect(await page.locator("#chart-requests path.line").getAttribute("d")).toMatch(/^M/);

    const killedAt = Date.now();
    await fleet.sims[2]!.close();
    await expect.poll(() => nodeState(page, "node-2"), { timeout: DOWN_WITHIN_MS }).toBe("unhealthy");
    expect(Date.now() - killedAt).toBeLessThan(DOWN_WITHIN_MS);
    expect(await nodeState(page, "node-0")).toBe("healthy");
    expect(await page.locator('[data-card="nodes healthy"] .value').textContent()).toBe("2 / 3");

    await page.click("#logout");
    await page.locator("#login").waitFor({ state: "visible" });
    expect((await page.request.get(`${dashboard}/state`)).status()).toBe(401);
  });

  it("lets in a browser that sends the admin token as a Bearer header, without the form", async () => {
    const page = await open({ extraHTTPHeaders: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    await page.locator("#board").waitFor({ state: "visible" });
    expect(await page.locator("#login").isHidden()).toBe(true);
    await expect.poll(() => listedNodes(page), REDRAWN).toEqual(["node-0", "node-1", "node-2"]);
    expect(await page.context().cookies()).toEqual([]);
  });
});
