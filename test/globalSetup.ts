// With TEST_DATABASE_URL (a real Postgres, as .ci/run gives), migrations are
// applied once here and every test worker shares that database. Without it,
// each worker starts its own in-memory PGlite (test/setupDatabase.ts).
import { applyMigrations } from "../src/db/migrate.js";

export default async function setup() {
  if (process.env.TEST_DATABASE_URL) await applyMigrations(process.env.TEST_DATABASE_URL);
}
