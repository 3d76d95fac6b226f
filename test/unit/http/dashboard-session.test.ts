import { describe, expect, it } from "vitest";
import { DashboardSessions, SESSION_TTL_S } from "../../../src/http/dashboard-session.js";

const TOKEN = "dashboard-admin-token-0123456789";

describe("DashboardSessions", () => {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const sessions = new DashboardSessions(TOKEN, () => now);

  it("accepts what it issued, which does not contain the token", () => {
    const value = sessions.issue();
    expect(sessions.valid(value)).toBe(true);
    expect(value).not.toContain(TOKEN);
  });

  it("accepts a session issued by another replica with the same token, not one with another token", () => {
    const value = new DashboardSessions(TOKEN, () => now).issue();
    expect(sessions.valid(value)).toBe(true);
    expect(sessions.valid(new DashboardSessions(`${TOKEN}-rotated`, () => now).issue())).toBe(false);
  });

  it("refuses a session once it has expired", () => {
    const value = sessions.issue();
    now += SESSION_TTL_S * 1000 - 1;
    expect(sessions.valid(value)).toBe(true);
    now += 1;
    expect(sessions.valid(value)).toBe(false);
  });

  it("refuses a session whose expiry was pushed back, a forged mac and garbage", () => {
    const value = sessions.issue();
    const [expires, mac] = value.split(".") as [string, string];
    expect(sessions.valid(`${Number(expires) + 1000}.${mac}`)).toBe(false);
    expect(sessions.valid(`${expires}.${"A".repeat(43)}`)).toBe(false);
    for (const garbage of [undefined, "", "x", `${expires}.`, `${expires}.${mac}x`, TOKEN]) {
      expect(sessions.valid(garbage)).toBe(false);
    }
  });
});
