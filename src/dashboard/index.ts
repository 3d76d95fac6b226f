export { type AssetName, type PageAsset, pageAssets } from "./assets.js";
export { FleetView, type FleetViewDeps } from "./fleet-view.js";
export type { DashboardSnapshot } from "./snapshot.js";
