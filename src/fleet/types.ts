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
}

export type HealthState = "unknown" | "loading" | "healthy" | "unhealthy";
