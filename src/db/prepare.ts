import path from "node:path";
import type { Config } from "../config.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded.js";
import { applyMigrations } from "./migrate.js";

export interface PreparedDatabase {
  url: string;
  embedded: EmbeddedPostgres | undefined;
  migrationsApplied: string[];
}

/**
 * Makes the database ready before the app is imported: starts the embedded
 * PGlite when no DATABASE_URL is given, applies pending migrations, and
 * exports DATABASE_URL for src/db/client.ts.
 */
export async function prepareDatabase(config: Pick<Config, "databaseUrl" | "dataDir">): Promise<PreparedDatabase> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(path.join(config.dataDir, "pglite"));
  const url = config.databaseUrl ?? embedded!.connectionString;
  const migrationsApplied = await applyMigrations(url);
  process.env.DATABASE_URL = url;
  if (embedded) useSingleConnection();
  return { url, embedded, migrationsApplied };
}

/**
 * PGlite is one Postgres session. Its socket server multiplexes connections,
 * but concurrent extended-protocol queries from two connections interleave
 * (one gets "unnamed prepared statement does not exist", or another's rows),
 * so the app talks to the embedded database through exactly one connection.
 */
export function useSingleConnection(): void {
  process.env.DATABASE_POOL_SIZE = "1";
}
