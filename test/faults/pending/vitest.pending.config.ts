import { defineConfig } from "vitest/config";

/** Runs the tests that pin gateway bugs not fixed yet: `npx vitest run -c test/faults/pending/vitest.pending.config.ts`. */
export default defineConfig({
  test: {
    include: ["test/faults/pending/*.pending.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
