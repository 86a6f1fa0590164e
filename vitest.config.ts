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
    // The embedded database is one Postgres session, so on PGlite the suite
    // runs in one worker (parallel workers would only queue behind it); on a
    // real Postgres (TEST_DATABASE_URL) test files run in parallel.
    // minForks = maxForks: with isolate off, tinypool retires a worker it sees
    // idle above minForks even while that fork still runs test files, and the
    // run ends with "Terminating worker thread" (seen with 3 files).
    poolOptions: { forks: process.env.TEST_DATABASE_URL ? { maxForks: 3, minForks: 3 } : { singleFork: true } },
    reporters: ["default"],
  },
});
