import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import type { Resolver } from "../../src/upstream/index.js";
import { eventually } from "../support/fleet.js";
import { fleetCall, nodeOn, startOpenGateway } from "../support/open-fleet.js";

/** A DNS server under the attacker's control: public at registration, loopback afterwards. */
function hostileResolver(): Resolver {
  let rebindLookups = 0;
  return async (hostname: string) => {
    if (hostname === "metadata.evil.test") return [{ address: "169.254.169.254", family: 4 }];
    if (hostname === "private.evil.test") return [{ address: "10.0.0.5", family: 4 }];
    if (hostname === "rebind.evil.test") {
      rebindLookups += 1;
      return [{ address: rebindLookups === 1 ? "93.184.216.34" : "127.0.0.1", family: 4 }];
    }
    throw Object.assign(new Error(`no such host ${hostname}`), { code: "ENOTFOUND" });
  };
}

describe("the SSRF guard on registered nodes", () => {
  let sim: SimNode;
  let gateway: RunningGateway;
  const resolver = hostileResolver();

  beforeAll(async () => {
    sim = await startSimNode({ model: "tiny" });
    gateway = await startOpenGateway({ fleet: { allow_private_urls: false } }, { resolve: resolver });
  });
  afterAll(async () => {
    await gateway.close();
    await sim.close();
  });

  it.each([
    ["loopback", "http://127.0.0.1:1", /loopback or private/],
    ["metadata", "http://169.254.169.254/latest/meta-data/", /metadata/],
    ["IPv6 metadata", "http://[fd00:ec2::254]/", /metadata/],
    ["credentials", "http://user:pw@93.184.216.34/", /credentials/],
    ["scheme", "gopher://93.184.216.34/", /http or https/],
    ["a name resolving to metadata", "http://metadata.evil.test/", /resolves to 169\.254\.169\.254/],
    ["a name resolving to a private address", "http://private.evil.test/", /resolves to 10\.0\.0\.5/],
  ])("refuses %s with 400 node_url_refused", async (_, url, reason) => {
    const response = await fleetCall(gateway.url, "POST", "/fleet/nodes", { id: "hostile", url });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; param: string; message: string } };
    expect(error).toMatchObject({ code: "node_url_refused", param: "url" });
    expect(error.message).toMatch(reason);
    expect(await nodeOn(gateway, "hostile")).toBeUndefined();
  });

  it("refuses the connection when the name rebinds to loopback after registration", async () => {
    const url = `http://rebind.evil.test:${sim.port}`;
    const response = await fleetCall(gateway.url, "POST", "/fleet/nodes", { id: "rebinder", url });
    expect(response.status).toBe(201);
    const reason = async () => (await nodeOn(gateway, "rebinder"))?.admission_reason ?? "";
    expect(await eventually(async () => /refused to connect/.test(await reason()))).toBe(true);
    expect(await reason()).toMatch(/127\.0\.0\.1 is a loopback or private address/);
    expect((await nodeOn(gateway, "rebinder"))?.admission).toBe("probation");
    // The node behind the rebound name never saw a request from the gateway.
    expect(sim.stats().requestsTotal).toBe(0);
  });
});
