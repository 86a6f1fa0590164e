// One database for the whole run: TEST_DATABASE_URL (a real Postgres, as
// .ci/run gives) or, by default, an in-memory embedded PGlite served on a
// loopback port. Migrations are applied once here, as the server does at start.
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../src/db/embedded.js";
import { applyMigrations } from "../src/db/migrate.js";

let embedded: EmbeddedPostgres | undefined;

export default async function setup() {
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres();
    url = embedded.connectionString;
  }
  await applyMigrations(url);
  // Test workers are forked after this and inherit the variable.
  process.env.DATABASE_URL = url;
  process.env.TEST_DATABASE_KIND = embedded ? "pglite" : "postgres";
  return async () => {
    await embedded?.stop();
  };
}
