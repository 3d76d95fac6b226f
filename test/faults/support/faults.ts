import type { FaultConfig } from "../../../src/sim/index.js";

/** Each fault the sim can inject, as the suite and the benchmark turn it on. */
export const FAULTS = {
  "5xx storm": { errorRate: 1 },
  "hang before headers": { hangBeforeHeaders: true },
  "hang mid-stream": { hangMidStreamAfterTokens: 3 },
  "died mid-stream": { dieAfterTokens: 3 },
  "garbage output": { malformedOutput: true },
  // The sim trickles at least one byte per 50 ms tick, so "one byte a second" is 20 B/s on the wire.
  "one byte a second": { slowBytesPerSecond: 1 },
  flapping: { flapPeriodMs: 200 },
} as const satisfies Record<string, Partial<FaultConfig>>;

export type FaultName = keyof typeof FAULTS;
