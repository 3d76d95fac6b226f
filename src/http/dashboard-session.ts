import { createHmac, timingSafeEqual } from "node:crypto";

/** The cookie's name; it is scoped to /dashboard, so the API and the admin API never receive it. */
export const SESSION_COOKIE = "fleetgate_dashboard";
export const SESSION_PATH = "/dashboard";
export const SESSION_TTL_S = 12 * 60 * 60;

const VALUE = /^(\d{13,16})\.([A-Za-z0-9_-]{43})$/;

/**
 * Dashboard sessions without server-side state: the cookie holds its expiry and an HMAC of it keyed by
 * the admin token. Every replica with the same token accepts it (the gateway is stateless behind a load
 * balancer), and changing the token ends every session. A session opens the dashboard's read-only
 * state, never the admin API, so a leaked cookie cannot issue or revoke keys.
 */
export class DashboardSessions {
  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {}

  issue(): string {
    const expires = this.now() + SESSION_TTL_S * 1000;
    return `${expires}.${this.mac(expires).toString("base64url")}`;
  }

  valid(value: string | undefined): boolean {
    const match = VALUE.exec(value ?? "");
    if (!match) return false;
    const expires = Number(match[1]);
    return expires > this.now() && timingSafeEqual(Buffer.from(match[2]!, "base64url"), this.mac(expires));
  }

  private mac(expires: number): Buffer {
    return createHmac("sha256", this.token).update(`fleetgate dashboard session ${expires}`).digest();
  }
}
