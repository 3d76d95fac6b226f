import type { LatLon } from "./regions.js";

const EARTH_RADIUS_KM = 6371;
/** Light in fibre covers about 200 km per millisecond; real routes are longer than great circles. */
const FIBRE_KM_PER_MS = 200;
const ROUTE_STRETCH = 1.5;
const FIXED_OVERHEAD_MS = 2;

export function greatCircleKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Expected round trip before any measurement: out and back along a stretched great circle. */
export function networkPriorMs(a: LatLon, b: LatLon): number {
  return FIXED_OVERHEAD_MS + (2 * greatCircleKm(a, b) * ROUTE_STRETCH) / FIBRE_KM_PER_MS;
}
