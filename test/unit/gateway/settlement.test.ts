import { describe, expect, it } from "vitest";
import { Settlement } from "../../../src/gateway/outcome.js";
import type { LogFields, Logger } from "../../../src/telemetry/index.js";
import { sampleOutcome } from "../../support/outcomes.js";

const outcome = sampleOutcome({ tenant: "anonymous", keyId: undefined, servedBy: "node-0" });

function recordingLogger(): Logger & { errors: { msg: string; fields: LogFields | undefined }[] } {
  const errors: { msg: string; fields: LogFields | undefined }[] = [];
  const ignore = () => undefined;
  return {
    errors,
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (msg, fields) => errors.push({ msg, fields }),
  };
}

describe("Settlement", () => {
  it("a subscriber that throws is logged by name; the others, before and after it, still get the outcome", () => {
    const log = recordingLogger();
    const settlement = new Settlement(log);
    const got: string[] = [];
    settlement.subscribe("before", (seen) => got.push(`before:${seen.requestId}`));
    settlement.subscribe("broken", () => {
      throw new Error("boom");
    });
    settlement.subscribe("after", (seen) => got.push(`after:${seen.requestId}`));

    expect(() => settlement.publish(outcome)).not.toThrow();
    expect(got).toEqual(["before:req-1", "after:req-1"]);
    expect(log.errors).toHaveLength(1);
    expect(log.errors[0]?.fields).toMatchObject({ subscriber: "broken", error: "Error: boom" });

    // It keeps its place: the next outcome is published the same way.
    settlement.publish({ ...outcome, requestId: "req-2" });
    expect(got).toEqual(["before:req-1", "after:req-1", "before:req-2", "after:req-2"]);
    expect(log.errors).toHaveLength(2);
  });
});
