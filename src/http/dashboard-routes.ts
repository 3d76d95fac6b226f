import type { Context, Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { type AssetName, type FleetView, pageAssets } from "../dashboard/index.js";
import { errors } from "../errors.js";
import { parseRequestBody } from "../openai/index.js";
import { adminToken, jsonOf, tokenMatcher } from "./admin-routes.js";
import { DashboardSessions, SESSION_COOKIE, SESSION_PATH, SESSION_TTL_S } from "./dashboard-session.js";
import type { RequestIdEnv } from "./request-id.js";

const loginRequest = z.strictObject({ token: z.string().min(1).max(4096) });

/** The page loads nothing from elsewhere and cannot be framed; its script only talks to this origin. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/**
 * The dashboard, served wherever the admin API is. The page and its files hold no data and load for
 * anyone; the state behind them needs the admin token as a Bearer header (an operator's SSO proxy) or
 * the session cookie that POST /dashboard/login sets for the token typed into the page's form.
 */
export function dashboardRoutes(app: Hono<RequestIdEnv>, token: string | undefined, view: FleetView): void {
  const assets = pageAssets();
  const sessions = token === undefined ? undefined : new DashboardSessions(token);
  const matches = tokenMatcher(token);
  const serve = (name: AssetName) => (c: Context<RequestIdEnv>) =>
    c.body(assets[name].body, 200, { ...PAGE_HEADERS, "content-type": assets[name].contentType });
  app.get("/dashboard", serve("index.html"));
  app.get("/dashboard/dashboard.css", serve("dashboard.css"));
  app.get("/dashboard/dashboard.js", serve("dashboard.js"));
  app.get("/dashboard/state", adminToken(token, sessions), (c) =>
    c.json(view.snapshot(), 200, { "cache-control": "no-store" }),
  );
  // JSON only: a cross-site form cannot send it, so no other site can log a browser in or out.
  app.post("/dashboard/login", async (c) => {
    const { token: given } = parseRequestBody(loginRequest, await jsonOf(c.req.raw));
    if (!sessions || !matches(given)) throw errors.adminUnauthorized(sessions !== undefined);
    setCookie(c, SESSION_COOKIE, sessions.issue(), {
      path: SESSION_PATH,
      httpOnly: true,
      sameSite: "Strict",
      secure: isHttps(c),
      maxAge: SESSION_TTL_S,
    });
    return c.body(null, 204);
  });
  app.post("/dashboard/logout", async (c) => {
    await jsonOf(c.req.raw);
    deleteCookie(c, SESSION_COOKIE, { path: SESSION_PATH, secure: isHttps(c) });
    return c.body(null, 204);
  });
}

/** Marks the cookie Secure when the browser reached us over TLS, directly or through a proxy that says so. */
function isHttps(c: Context<RequestIdEnv>): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}
