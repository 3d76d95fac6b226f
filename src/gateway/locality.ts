import { errors } from "../errors.js";
import { type LatLon, resolveRegion } from "../geo/index.js";
import type { RequestFeatures } from "../routing/index.js";

export interface ResidencyRule {
  readonly clientRegions: ReadonlySet<string>;
  readonly nodeRegions: ReadonlySet<string>;
}

/** The compiled locality settings: where this gateway is, and what residency rules apply. */
export interface LocalityPolicy {
  readonly gatewayLocation: LatLon | undefined;
  readonly clientRelative: boolean;
  readonly allowedRegions: ReadonlySet<string> | undefined;
  readonly residency: readonly ResidencyRule[];
  readonly customRegions: ReadonlyMap<string, LatLon>;
  /** Whether Cloudflare's edge is in front: only then are its cf-* headers more than a client's word. */
  readonly trustCloudflareHeaders: boolean;
}

/** A request header's value; repeated headers come joined with ", ". */
export type HeaderReader = (name: string) => string | undefined;
/** Every occurrence of a request header, in order, each as it was sent (none when absent). */
export type HeaderValues = (name: string) => readonly string[];

export interface RequestHeaders {
  readonly header: HeaderReader;
  readonly headerValues: HeaderValues;
}

export const LOCALITY_HEADERS = {
  clientRegion: "x-fleetgate-client-region",
  clientLocation: "x-fleetgate-client-location",
  allowedRegions: "x-fleetgate-allowed-regions",
  cfLatitude: "cf-iplatitude",
  cfLongitude: "cf-iplongitude",
} as const;

/**
 * Where latency is measured from and which regions may serve this request. A request header can
 * only narrow residency, never widen what the config allows; and since a proxy in front may set the
 * header while the client sends its own, every occurrence narrows (joined, they would widen).
 */
export function requestLocality(
  policy: LocalityPolicy,
  { header, headerValues }: RequestHeaders,
): Pick<RequestFeatures, "origin" | "allowedRegions"> {
  const clientRegion = header(LOCALITY_HEADERS.clientRegion)?.trim().toLowerCase();
  const client = clientLocation(policy, header, clientRegion);
  let allowed = policy.allowedRegions;
  if (clientRegion) {
    for (const rule of policy.residency) {
      if (rule.clientRegions.has(clientRegion)) allowed = intersect(allowed, rule.nodeRegions);
    }
  }
  for (const asked of headerValues(LOCALITY_HEADERS.allowedRegions)) {
    allowed = intersect(allowed, regionList(policy, asked));
  }
  return {
    origin: policy.clientRelative && client ? client : policy.gatewayLocation,
    allowedRegions: allowed,
  };
}

function clientLocation(
  policy: LocalityPolicy,
  header: HeaderReader,
  region: string | undefined,
): LatLon | undefined {
  const explicit = header(LOCALITY_HEADERS.clientLocation);
  if (explicit !== undefined) {
    const location = parseLatLon(explicit);
    if (!location) {
      throw errors.invalidRequest(
        `${LOCALITY_HEADERS.clientLocation} must be 'lat,lon' in degrees, got '${explicit}'`,
        LOCALITY_HEADERS.clientLocation,
      );
    }
    return location;
  }
  if (region) {
    const location = resolveRegion(region, policy.customRegions);
    if (!location) {
      throw errors.invalidRequest(`unknown region '${region}'`, LOCALITY_HEADERS.clientRegion);
    }
    return location;
  }
  // Anyone can send these; behind Cloudflare its edge sets them, so a malformed value is ignored, not refused.
  if (!policy.trustCloudflareHeaders) return undefined;
  const lat = header(LOCALITY_HEADERS.cfLatitude);
  const lon = header(LOCALITY_HEADERS.cfLongitude);
  return lat !== undefined && lon !== undefined ? parseLatLon(`${lat},${lon}`) : undefined;
}

function regionList(policy: LocalityPolicy, value: string): Set<string> {
  const regions = new Set<string>();
  for (const part of value.split(",")) {
    const code = part.trim().toLowerCase();
    if (!code) continue;
    if (!resolveRegion(code, policy.customRegions)) {
      throw errors.invalidRequest(`unknown region '${code}'`, LOCALITY_HEADERS.allowedRegions);
    }
    regions.add(code);
  }
  return regions;
}

function intersect(current: ReadonlySet<string> | undefined, next: ReadonlySet<string>): ReadonlySet<string> {
  if (!current) return next;
  return new Set([...current].filter((region) => next.has(region)));
}

function parseLatLon(value: string): LatLon | undefined {
  const parts = value.split(",");
  if (parts.length !== 2) return undefined;
  const lat = Number(parts[0]);
  const lon = Number(parts[1]);
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180)
    return undefined;
  return { lat, lon };
}
