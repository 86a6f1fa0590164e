import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// `npm run test:fast` (vitest --mode fast) is the inner loop: it leaves out the
// files that start server processes, need Redis or a browser, and the two
// exhaustive hostile-input matrices (hundreds of requests each). `npm test`
// and .ci/run run everything.
const SLOW_FILES = [
  "test/server.test.ts", // starts `npm start` processes
  "test/schema.test.ts", // runs the contract-coverage tool
  "test/security/embeddedDatabase.test.ts", // processes and file modes
  "test/security/metrics.test.ts", // a production server process
  "test/http/sharedRateLimit.test.ts", // two processes and Redis
  "test/billing/twoProcesses.test.ts", // two processes on one database
  "test/phoneNumbers/lifecycle.test.ts", // runs the purge script
  "test/e2e/**", // Chromium
  "test/security/textInputs.test.ts", // every text field x hostile value
  "test/security/argumentForms.test.ts", // every argument rule x every form
  "test/faults/**", // servers behind proxies, signals, slow sockets
  "test/events/processes.test.ts", // gateway processes, kill -9, Redis
  "test/db/migrationsDrift.test.ts", // migrates a second, empty database
  "test/billing/concurrency.test.ts", // hundreds of concurrent charges (the proof that counts runs on Postgres)
  "test/usageTriggers/concurrency.test.ts", // 60 concurrent charges per case
  "test/webhooks/delivery.test.ts", // real receivers, retries waited out
  "test/accounts/keyExpiry.test.ts", // waits for keys to expire on the clock
  "test/security/newPathsReview.test.ts", // a hostile review's probes, some waiting out re-checks
];

/**
 * Test workers. On a real Postgres (TEST_DATABASE_URL) files run in three
 * workers against the one database. On PGlite each worker starts its own
 * in-memory database (test/setupDatabase.ts), so workers do not queue behind
 * one another: the inner loop takes a worker per core. The full run keeps one
 * worker there, because its process-spawning files start servers on embedded
 * databases of their own and would compete with a second worker for the cores.
 */
function forkCount(mode: string) {
  if (process.env.TEST_DATABASE_URL) return { maxForks: 3, minForks: 3 };
  if (mode === "fast") {
    const cores = Math.max(1, Math.min(availableParallelism(), 4));
    return { maxForks: cores, minForks: cores };
  }
  return { singleFork: true };
}

export default defineConfig(({ mode }) => ({
  // graphql ships ESM and CJS builds; pin one so every package shares the same
  // classes (instanceof checks fail across two copies).
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  test: {
    globalSetup: ["./test/globalSetup.ts"],
    setupFiles: ["./test/setupDatabase.ts"],
    // Workers keep their modules (and their database) across test files.
    isolate: false,
    include: ["test/**/*.test.ts"],
    exclude: mode === "fast" ? SLOW_FILES : [],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Workers per database: see forkCount. minForks = maxForks: with isolate
    // off, tinypool retires a worker it sees idle above minForks even while
    // that fork still runs test files, and the run ends with "Terminating
    // worker thread" (seen with 3 files).
    poolOptions: { forks: forkCount(mode) },
    reporters: ["default"],
  },
}));
