import { type Timings, timingsSchema, type Usage, usageSchema } from "./schemas.js";

export interface UsageReport {
  usage?: Usage;
  timings?: Timings;
}

/** Reads `usage` and llama.cpp `timings` from a response body or stream chunk, ignoring bad shapes. */
export function extractUsage(payload: unknown): UsageReport {
  if (typeof payload !== "object" || payload === null) return {};
  const record = payload as Record<string, unknown>;
  const report: UsageReport = {};
  const usage = usageSchema.safeParse(record.usage);
  if (usage.success) report.usage = usage.data;
  const timings = timingsSchema.safeParse(record.timings);
  if (timings.success) report.timings = timings.data;
  return report;
}
