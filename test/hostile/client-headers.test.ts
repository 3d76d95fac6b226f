import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALITY_HEADERS, type LocalityPolicy } from "../../src/gateway/index.js";
import { requestLocality } from "../../src/gateway/locality.js";
import { startFleet, type TestFleet } from "../support/fleet.js";
import { chat, send } from "./client-support.js";

/**
 * Issue 15, finding 7: trust in headers. Two x-fleetgate-allowed-regions headers were joined into
 * one list, so a client could add to what a proxy in front had set; cf-iplatitude was believed
 * whoever sent it.
 */
const ALLOWED = LOCALITY_HEADERS.allowedRegions;

describe("hostile clients: repeated residency headers", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }, { model: "tiny" }], {
      nodeConfig: [{ region: "fra" }, { region: "ams" }],
      config: { routing: { strategy: "round-robin", affinity: false } },
    });
  });
  afterAll(() => fleet.close());

  const ask = (regions: string[]) =>
    send(`${fleet.baseURL}/chat/completions`, { body: chat(), headers: { [ALLOWED]: regions } });

  it("narrows with every occurrence: a client's own header cannot add a region to the proxy's", async () => {
    const served = new Set<unknown>();
    for (let i = 0; i < 6; i++) {
      const response = await ask(["fra", "fra, ams"]);
      expect(response.status).toBe(200);
      served.add(response.headers["x-fleetgate-node"]);
    }
    expect([...served]).toEqual(["node-0"]);
  });

  it("refuses when the occurrences share no region, rather than serving from either", async () => {
    const response = await ask(["fra", "ams"]);
    expect(response.status).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: "no_node_in_allowed_regions" } });
  });
});

describe("hostile clients: Cloudflare's location headers", () => {
  const paris = { lat: 48.85, lon: 2.35 };
  const policy = (trustCloudflareHeaders: boolean): LocalityPolicy => ({
    gatewayLocation: paris,
    clientRelative: true,
    allowedRegions: undefined,
    residency: [],
    customRegions: new Map(),
    trustCloudflareHeaders,
  });
  const fromSydney: Record<string, string> = {
    [LOCALITY_HEADERS.cfLatitude]: "-33.87",
    [LOCALITY_HEADERS.cfLongitude]: "151.21",
  };
  const headers = {
    header: (name: string) => fromSydney[name],
    headerValues: (name: string) => (name in fromSydney ? [fromSydney[name] as string] : []),
  };

  it("ignores cf-iplatitude/cf-iplongitude unless routing.trust_cloudflare_headers is on", () => {
    expect(requestLocality(policy(false), headers).origin).toEqual(paris);
    expect(requestLocality(policy(true), headers).origin).toEqual({ lat: -33.87, lon: 151.21 });
  });
});
