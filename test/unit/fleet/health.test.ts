import { describe, expect, it } from "vitest";
import { HealthTracker } from "../../../src/fleet/health.js";
import { healthVerdict, parseMetrics, parseSlots } from "../../../src/fleet/llama-probes.js";

describe("node health", () => {
  const tracker = () => new HealthTracker({ unhealthyAfter: 3, healthyAfter: 2 });

  it("trusts a new node on its first good probe", () => {
    const health = tracker();
    health.record("ok");
    expect(health.current).toBe("healthy");
  });

  it("does not take a healthy node down on one failed probe", () => {
    const health = tracker();
    health.record("ok");
    health.record("failed");
    health.record("failed");
    expect(health.current).toBe("healthy");
    health.record("failed");
    expect(health.current).toBe("unhealthy");
  });

  it("brings a down node back only after consecutive successes", () => {
    const health = tracker();
    for (let i = 0; i < 3; i++) health.record("failed");
    health.record("ok");
    expect(health.current).toBe("unhealthy");
    health.record("failed");
    health.record("ok");
    expect(health.current).toBe("unhealthy");
    health.record("ok");
    expect(health.current).toBe("healthy");
  });

  it("reads llama.cpp's 503 Loading model as loading, not failed", () => {
    expect(
      healthVerdict(503, '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}'),
    ).toBe("loading");
    expect(healthVerdict(503, "busy")).toBe("failed");
    expect(healthVerdict(200, '{"status":"ok"}')).toBe("ok");
  });

  it("reads load from /slots and /metrics", () => {
    expect(parseSlots('[{"id":0,"is_processing":true},{"id":1,"is_processing":false}]')).toEqual({
      slotsTotal: 2,
      slotsBusy: 1,
    });
    const metrics = "# HELP x\nllamacpp:requests_processing 3\nllamacpp:requests_deferred 2\n";
    expect(parseMetrics(metrics)).toEqual({ slotsBusy: 3, deferred: 2 });
  });
});
