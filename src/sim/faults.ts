import { describeIssues } from "../openai/validate.js";
import { type FaultConfig, faultPatchSchema } from "./options.js";
import { llamaErrors } from "./wire.js";

/** Validates a runtime fault patch (POST /sim/faults, setFaults); the 400 names the bad field. */
export function patchFaults(current: Readonly<FaultConfig>, patch: unknown): FaultConfig {
  const parsed = faultPatchSchema.safeParse(patch);
  if (!parsed.success) {
    throw llamaErrors.invalidRequest(`Invalid faults: ${describeIssues(parsed.error).message}`);
  }
  return { ...current, ...definedOnly(parsed.data) };
}

function definedOnly(patch: Partial<FaultConfig>): Partial<FaultConfig> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
}

/** The flap fault: healthy in even periods since start, 503 in odd ones. */
export function isFlappedDown(faults: Readonly<FaultConfig>, sinceStartMs: number): boolean {
  if (faults.flapPeriodMs === null) return false;
  return Math.floor(sinceStartMs / faults.flapPeriodMs) % 2 === 1;
}
