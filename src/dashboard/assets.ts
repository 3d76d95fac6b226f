import { readFileSync } from "node:fs";

export interface PageAsset {
  readonly body: string;
  readonly contentType: string;
}

const TYPES = {
  "index.html": "text/html; charset=utf-8",
  "dashboard.css": "text/css; charset=utf-8",
  "dashboard.js": "text/javascript; charset=utf-8",
} as const;

export type AssetName = keyof typeof TYPES;

/**
 * The page's files, read once when the routes are built. They sit in page/ beside this module: the
 * sources under tsx, and in dist/ because `npm run build` copies page/ there (tsc copies only code).
 */
export function pageAssets(): Readonly<Record<AssetName, PageAsset>> {
  const read = (name: AssetName): PageAsset => ({
    body: readFileSync(new URL(`./page/${name}`, import.meta.url), "utf8"),
    contentType: TYPES[name],
  });
  return {
    "index.html": read("index.html"),
    "dashboard.css": read("dashboard.css"),
    "dashboard.js": read("dashboard.js"),
  };
}
