import type { Hono } from "hono";
import { z } from "zod";
import { LEDGER_DIMENSIONS, type UsageLedger } from "../accounting/index.js";
import { parseRequestBody } from "../openai/index.js";
import type { RequestIdEnv } from "./request-id.js";

const HOUR = 3_600_000;

// A time is RFC 3339 or epoch seconds, as dashboards and scripts send it.
const instant = z
  .string()
  .transform((text, ctx) => {
    const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: "custom", message: "must be RFC 3339 or epoch seconds" });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

const usageQuery = z.strictObject({
  group_by: z.enum(LEDGER_DIMENSIONS),
  from: instant,
  to: instant,
});

/**
 * `GET /admin/usage?group_by=key|tenant|model|node&from=&to=`: the ledger summed over a range (the
 * last hour by default), at most its retention back. Registered behind the admin token.
 */
export function usageRoute(app: Hono<RequestIdEnv>, ledger: UsageLedger, now: () => number = Date.now): void {
  app.get("/admin/usage", async (c) => {
    const query = parseRequestBody(usageQuery, c.req.query(), "query");
    const to = query.to ?? now();
    const from = Math.max(query.from ?? to - HOUR, now() - ledger.retention);
    const data = await ledger.query(query.group_by, from, to);
    return c.json({
      object: "list",
      group_by: query.group_by,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      data,
    });
  });
}
