import { execFileSync } from "node:child_process";
import { cpSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Compiles the gateway as `npm run build` does (tsc, no runtime transform) so the benchmark measures
 * what production runs: under tsx, esbuild's name-keeping wrappers alone cost a few percent. The
 * output sits under node_modules so that the compiled files still resolve the project's packages.
 */
export function buildGateway(): URL {
  const root = new URL("../../", import.meta.url);
  const outDir = new URL("node_modules/.cache/fleetgate-bench/", root);
  execFileSync(
    process.execPath,
    [
      fileURLToPath(new URL("node_modules/typescript/bin/tsc", root)),
      "-p",
      fileURLToPath(new URL("bench/overhead/tsconfig.gateway.json", root)),
      "--outDir",
      fileURLToPath(outDir),
    ],
    { stdio: "inherit" },
  );
  // The dashboard's page is read from beside its module at start, as `npm run build` copies it.
  cpSync(new URL("src/dashboard/page/", root), new URL("src/dashboard/page/", outDir), { recursive: true });
  return new URL("bench/overhead/gateway-entry.js", outDir);
}
