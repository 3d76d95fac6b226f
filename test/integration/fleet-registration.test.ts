import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/main.js";
import { type SimNode, startSimNode } from "../../src/sim/index.js";
import { eventually, postJson } from "../support/fleet.js";
import { ENROLLMENT_TOKEN, fleetCall, nodeOn, startOpenGateway } from "../support/open-fleet.js";

describe("node registration", () => {
  let sims: SimNode[] = [];
  let gateway: RunningGateway;

  beforeAll(async () => {
    sims = await Promise.all([startSimNode({ model: "tiny" }), startSimNode({ model: "tiny" })]);
    gateway = await startOpenGateway({
      fleet: { enrollment_tokens: [ENROLLMENT_TOKEN, "second-operator-token-0123"] },
    });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all(sims.map((sim) => sim.close()));
  });

  it("refuses a missing or wrong enrollment token with 401, and the admin token is not one", async () => {
    const body = { id: "n-auth", url: sims[0]!.url };
    for (const token of [null, "wrong-token-0123456789", "test-admin-token-0123456789"]) {
      const response = await fleetCall(gateway.url, "POST", "/fleet/nodes", body, token);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        "invalid_enrollment_token",
      );
    }
    expect(await nodeOn(gateway, "n-auth")).toBeUndefined();
  });

  it("admits a node that serves what it claims after verification, and routes to it", async () => {
    const response = await fleetCall(gateway.url, "POST", "/fleet/nodes", {
      id: "n-good",
      url: sims[0]!.url,
      region: "fra",
      models: ["tiny"],
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ id: "n-good", status: "created", ttl_ms: 15_000 });
    expect(await eventually(async () => (await nodeOn(gateway, "n-good"))?.admission === "verified")).toBe(
      true,
    );
    expect(await nodeOn(gateway, "n-good")).toMatchObject({ source: "registered", state: "healthy" });
    const completion = await postJson(`${gateway.url}/v1/chat/completions`, {
      model: "tiny",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 2,
    });
    expect(completion.status).toBe(200);
    expect(completion.headers.get("x-fleetgate-node")).toBe("n-good");
  });

  it("answers 409 for an id held by another URL or another operator's token", async () => {
    const otherUrl = await fleetCall(gateway.url, "POST", "/fleet/nodes", {
      id: "n-good",
      url: sims[1]!.url,
    });
    expect(otherUrl.status).toBe(409);
    expect(((await otherUrl.json()) as { error: { code: string } }).error.code).toBe("node_id_taken");
    const otherOwner = await fleetCall(
      gateway.url,
      "POST",
      "/fleet/nodes",
      { id: "n-good", url: sims[0]!.url, models: ["tiny"] },
      "second-operator-token-0123",
    );
    expect(otherOwner.status).toBe(409);
    const foreignDelete = await fleetCall(
      gateway.url,
      "DELETE",
      "/fleet/nodes/n-good",
      undefined,
      "second-operator-token-0123",
    );
    expect(foreignDelete.status).toBe(409);
    const again = await fleetCall(gateway.url, "POST", "/fleet/nodes", {
      id: "n-good",
      url: sims[0]!.url,
      region: "fra",
      models: ["tiny"],
    });
    expect(again.status).toBe(200);
    expect((await nodeOn(gateway, "n-good"))?.admission).toBe("verified");
  });

  it("keeps a node that claims a model it does not serve in probation, with the reason", async () => {
    const response = await fleetCall(gateway.url, "POST", "/fleet/nodes", {
      id: "n-liar",
      url: sims[1]!.url,
      models: ["llama-70b"],
    });
    expect(response.status).toBe(201);
    expect(
      await eventually(
        async () => (await nodeOn(gateway, "n-liar"))?.admission_reason?.includes("llama-70b") ?? false,
      ),
    ).toBe(true);
    const liar = await nodeOn(gateway, "n-liar");
    expect(liar).toMatchObject({ admission: "probation" });
    expect(liar?.admission_reason).toMatch(/claims 'llama-70b' but \/v1\/models lists only tiny/);
    const listing = (await (await fetch(`${gateway.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(listing.data.map((model) => model.id)).not.toContain("llama-70b");
    const completion = await postJson(`${gateway.url}/v1/chat/completions`, {
      model: "llama-70b",
      messages: [{ role: "user", content: "hi" }],
    });
    // Not served: a node on probation might yet be admitted, so the gateway says "not now" (503), never routes to it.
    expect(completion.status).toBe(503);
    expect(completion.headers.get("x-fleetgate-node")).toBeNull();
    // A model nobody claims is still plainly unknown.
    const unknown = await postJson(`${gateway.url}/v1/chat/completions`, {
      model: "no-such-model",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(unknown.status).toBe(404);
    await fleetCall(gateway.url, "DELETE", "/fleet/nodes/n-liar");
  });

  it("keeps a node whose canary completion fails in probation, with its answer as the reason", async () => {
    const broken = await startSimNode({ model: "tiny", faults: { errorRate: 1 } });
    try {
      const response = await fleetCall(gateway.url, "POST", "/fleet/nodes", {
        id: "n-broken",
        url: broken.url,
      });
      expect(response.status).toBe(201);
      const reason = async () => (await nodeOn(gateway, "n-broken"))?.admission_reason ?? "";
      expect(
        await eventually(async () => /^canary completion answered HTTP 5\d\d/.test(await reason())),
      ).toBe(true);
      expect((await nodeOn(gateway, "n-broken"))?.admission).toBe("probation");
      await fleetCall(gateway.url, "DELETE", "/fleet/nodes/n-broken");
    } finally {
      await broken.close();
    }
  });

  it("drains a node (no new requests) and removes it on deregistration", async () => {
    const drained = await fleetCall(gateway.url, "POST", "/fleet/nodes/n-good/drain");
    expect(drained.status).toBe(200);
    expect(await eventually(async () => (await nodeOn(gateway, "n-good"))?.draining === true)).toBe(true);
    const refused = await postJson(`${gateway.url}/v1/chat/completions`, {
      model: "tiny",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 2,
    });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("no_healthy_node");
    const removed = await fleetCall(gateway.url, "DELETE", "/fleet/nodes/n-good");
    expect(removed.status).toBe(200);
    expect(await eventually(async () => (await nodeOn(gateway, "n-good")) === undefined)).toBe(true);
    const heartbeat = await fleetCall(gateway.url, "PUT", "/fleet/nodes/n-good/heartbeat", {});
    expect(heartbeat.status).toBe(404);
    expect(((await heartbeat.json()) as { error: { code: string } }).error.code).toBe("node_not_registered");
  });

  it("validates the registration body, naming the field", async () => {
    const response = await fleetCall(gateway.url, "POST", "/fleet/nodes", {
      id: "bad id!",
      url: sims[0]!.url,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe("id");
    const region = await fleetCall(gateway.url, "POST", "/fleet/nodes", {
      id: "r",
      url: sims[0]!.url,
      region: "atlantis",
    });
    expect(region.status).toBe(400);
  });
});
