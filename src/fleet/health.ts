import type { HealthState } from "./types.js";

export interface HealthThresholds {
  /** Consecutive failures that take a healthy node out. */
  readonly unhealthyAfter: number;
  /** Consecutive successes that bring a node back. */
  readonly healthyAfter: number;
}

export type ProbeVerdict = "ok" | "loading" | "failed";

/**
 * Hysteresis over probe results: one failed probe never takes a node down and one good probe never
 * brings it back. A node seen for the first time is trusted on its first good probe, so a gateway
 * can serve as soon as its fleet answers.
 */
export class HealthTracker {
  private state: HealthState = "unknown";
  private failures = 0;
  private successes = 0;

  constructor(private readonly thresholds: HealthThresholds) {}

  get current(): HealthState {
    return this.state;
  }

  /** Applies a probe result; returns true when the state changed. */
  record(verdict: ProbeVerdict): boolean {
    const before = this.state;
    if (verdict === "ok") {
      this.failures = 0;
      this.successes += 1;
      if (
        this.state === "unknown" ||
        this.state === "loading" ||
        this.successes >= this.thresholds.healthyAfter
      ) {
        this.state = "healthy";
      }
    } else {
      this.successes = 0;
      this.failures += 1;
      if (verdict === "loading" && this.state !== "healthy") this.state = "loading";
      else if (this.state !== "healthy" || this.failures >= this.thresholds.unhealthyAfter) {
        this.state = verdict === "loading" ? "loading" : "unhealthy";
      }
    }
    return before !== this.state;
  }

  /** A request failed to connect: evidence as strong as a failed probe. */
  recordConnectFailure(): boolean {
    return this.record("failed");
  }
}
