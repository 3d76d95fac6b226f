import type { LatLon } from "../geo/index.js";

/** A node as configured or registered: where it is and how to reach it. Immutable. */
export interface NodeRecord {
  readonly id: string;
  readonly url: string;
  readonly region: string | undefined;
  readonly location: LatLon | undefined;
  readonly apiKey: string | undefined;
  /** Models declared in config; when undefined they are read from the node's /v1/models. */
  readonly declaredModels: readonly string[] | undefined;
  readonly declaredSlots: number | undefined;
  /** Joined through the registration API: verified before traffic, kept alive by heartbeats. */
  readonly registered?: boolean | undefined;
}

/**
 * Whether a node may take traffic at all, apart from its health: a registered node is on
 * `probation` until verified, and `rejected` (with the reason) when verification failed.
 */
export type Admission = "probation" | "verified" | "rejected";

export type HealthState = "unknown" | "loading" | "healthy" | "unhealthy";
