import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "test/clients/**"],
    // Finds or starts the one Redis of the run (FLEETGATE_TEST_REDIS_URL); see the file.
    globalSetup: ["test/support/redis-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
