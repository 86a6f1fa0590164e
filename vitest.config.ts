import { defineConfig } from "vitest/config";

export default defineConfig({
  // graphql ships ESM and CJS builds; pin one so every package shares the same
  // classes (instanceof checks fail across two copies).
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  test: {
    globalSetup: ["./test/globalSetup.ts"],
    setupFiles: ["./test/setupDatabase.ts"],
    // Workers keep their modules (and their database) across test files.
    isolate: false,
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    reporters: ["default"],
  },
});
