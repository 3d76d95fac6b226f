import { defineConfig } from "vitest/config";

/**
 * End-to-end tests against real llama-server processes. One test file at a time in one fork: the
 * servers already compete for 2 cores, and parallel files would make latency assertions meaningless.
 */
export default defineConfig({
  test: {
    // The client suite (test/clients) runs the SDKs people use against real llama-servers too.
    include: ["test/e2e/**/*.test.ts", "test/clients/**/*.test.ts"],
    // Redis for the open-fleet e2e, the cache e2e and the ledger (replicas sharing it), as in the main suite.
    globalSetup: ["test/e2e/llama-harness.ts", "test/support/redis-setup.ts"],
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
  },
});
