import { BUILTIN_REGIONS, type LatLon } from "./regions.js";

export { greatCircleKm, networkPriorMs } from "./distance.js";
export { BUILTIN_REGIONS, type LatLon } from "./regions.js";

/** Looks a region code up in the custom table first, then the built-in one; codes are case-insensitive. */
export function resolveRegion(
  code: string,
  custom: ReadonlyMap<string, LatLon> = new Map(),
): LatLon | undefined {
  const key = code.toLowerCase();
  return custom.get(key) ?? BUILTIN_REGIONS.get(key);
}
