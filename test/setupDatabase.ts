// Runs in each test worker before its test files import the app: points
// DATABASE_URL at the test database. Data is unique per test, so files share it.
import { setDatabaseSettings } from "../src/config.js";
import { startEmbeddedPostgres } from "../src/db/embedded.js";
import { applyMigrations } from "../src/db/migrate.js";
import { useSingleConnection } from "../src/db/prepare.js";

const state = globalThis as { __testDatabaseReady?: boolean };
if (!state.__testDatabaseReady) {
  if (process.env.TEST_DATABASE_URL) {
    setDatabaseSettings({ url: process.env.TEST_DATABASE_URL });
    process.env.TEST_DATABASE_KIND = "postgres";
  } else {
    const embedded = await startEmbeddedPostgres();
    await applyMigrations(embedded.connectionString);
    setDatabaseSettings({ url: embedded.connectionString });
    process.env.TEST_DATABASE_KIND = "pglite";
    useSingleConnection();
    // The pool ends a worker with SIGTERM, which skips exit handlers: exiting
    // from here instead lets the database remove its socket's temporary folder.
    process.once("SIGTERM", () => process.exit(143));
  }
  state.__testDatabaseReady = true;
}
