/**
 * Built-in region codes with approximate coordinates: Fly.io region codes (three letters, usually the
 * nearest airport) and the main cloud regions. Custom regions from config extend this table.
 */
export interface LatLon {
  lat: number;
  lon: number;
}

type Row = readonly [code: string, lat: number, lon: number];

const FLY: readonly Row[] = [
  ["ams", 52.37, 4.9],
  ["arn", 59.65, 17.93],
  ["atl", 33.64, -84.43],
  ["bog", 4.7, -74.14],
  ["bom", 19.09, 72.87],
  ["bos", 42.36, -71.01],
  ["cdg", 49.01, 2.55],
  ["den", 39.86, -104.67],
  ["dfw", 32.9, -97.04],
  ["ewr", 40.69, -74.17],
  ["eze", -34.82, -58.54],
  ["fra", 50.04, 8.56],
  ["gdl", 20.52, -103.31],
  ["gig", -22.81, -43.25],
  ["gru", -23.44, -46.47],
  ["hkg", 22.31, 113.92],
  ["iad", 38.94, -77.46],
  ["jnb", -26.14, 28.25],
  ["lax", 33.94, -118.41],
  ["lhr", 51.47, -0.45],
  ["mad", 40.47, -3.56],
  ["mia", 25.79, -80.29],
  ["nrt", 35.77, 140.39],
  ["ord", 41.98, -87.9],
  ["otp", 44.57, 26.1],
  ["phx", 33.43, -112.01],
  ["qro", 20.62, -100.19],
  ["scl", -33.39, -70.79],
  ["sea", 47.45, -122.31],
  ["sin", 1.36, 103.99],
  ["sjc", 37.36, -121.93],
  ["syd", -33.95, 151.18],
  ["waw", 52.17, 20.97],
  ["yul", 45.47, -73.74],
  ["yyz", 43.68, -79.63],
];

const CLOUD: readonly Row[] = [
  ["us-east-1", 38.9, -77.4],
  ["us-east-2", 40.0, -83.0],
  ["us-west-1", 37.4, -121.9],
  ["us-west-2", 45.8, -119.7],
  ["ca-central-1", 45.5, -73.6],
  ["sa-east-1", -23.5, -46.6],
  ["eu-west-1", 53.3, -6.3],
  ["eu-west-2", 51.5, -0.1],
  ["eu-west-3", 48.9, 2.4],
  ["eu-central-1", 50.1, 8.7],
  ["eu-north-1", 59.3, 18.1],
  ["eu-south-1", 45.5, 9.2],
  ["ap-south-1", 19.1, 72.9],
  ["ap-northeast-1", 35.7, 139.7],
  ["ap-northeast-2", 37.6, 127.0],
  ["ap-southeast-1", 1.3, 103.8],
  ["ap-southeast-2", -33.9, 151.2],
  ["ap-east-1", 22.3, 114.2],
  ["me-central-1", 25.2, 55.3],
  ["af-south-1", -33.9, 18.4],
  ["us-central1", 41.3, -95.9],
  ["us-east1", 33.2, -80.0],
  ["us-east4", 39.0, -77.5],
  ["us-west1", 45.6, -121.2],
  ["europe-west1", 50.4, 3.8],
  ["europe-west2", 51.5, -0.1],
  ["europe-west3", 50.1, 8.7],
  ["europe-west4", 53.4, 6.8],
  ["asia-east1", 24.1, 120.5],
  ["asia-northeast1", 35.7, 139.7],
  ["asia-southeast1", 1.3, 103.8],
  ["australia-southeast1", -33.9, 151.2],
  ["eastus", 37.4, -79.4],
  ["eastus2", 36.7, -78.4],
  ["westus", 37.8, -122.4],
  ["westus2", 47.2, -119.9],
  ["centralus", 41.6, -93.6],
  ["northeurope", 53.3, -6.3],
  ["westeurope", 52.4, 4.9],
  ["uksouth", 51.5, -0.1],
  ["germanywestcentral", 50.1, 8.7],
  ["japaneast", 35.7, 139.7],
  ["southeastasia", 1.3, 103.8],
  ["australiaeast", -33.9, 151.2],
];

export const BUILTIN_REGIONS: ReadonlyMap<string, LatLon> = new Map(
  [...FLY, ...CLOUD].map(([code, lat, lon]) => [code, { lat, lon }]),
);
