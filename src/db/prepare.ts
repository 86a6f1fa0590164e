import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Config, setDatabaseSettings } from "../config.js";
import { type EmbeddedPostgres, privateDirectory, privateFile, startEmbeddedPostgres } from "./embedded.js";
import { applyMigrations } from "./migrate.js";

export interface PreparedDatabase {
  url: string;
  embedded: EmbeddedPostgres | undefined;
  migrationsApplied: string[];
}

/**
 * Makes the database ready before the app is imported: starts the embedded
 * PGlite when no DATABASE_URL is given, applies pending migrations, and
 * hands its URL to src/db/client.ts (setDatabaseSettings).
 */
export async function prepareDatabase(config: Pick<Config, "databaseUrl" | "dataDir">): Promise<PreparedDatabase> {
  if (!config.databaseUrl) claimDataDir(config.dataDir);
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(path.join(config.dataDir, "pglite"));
  const url = config.databaseUrl ?? embedded!.connectionString;
  const migrationsApplied = await applyMigrations(url);
  setDatabaseSettings({ url });
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
  // Named prepared statements live in that one session, which outlives a
  // dropped connection: a reconnected client would prepare them twice.
  setDatabaseSettings({ poolSize: 1, namedStatements: false });
}

/**
 * PGlite opens its files from one process only: a second process (`npm run
 * seed` while the server runs) would corrupt them. A pid file in the data
 * folder makes the second one stop with a clear message instead.
 *
 * The folder holds every tenant's data, the operator token and the
 * database's socket, so only this user may enter it (0700).
 */
function claimDataDir(dataDir: string): void {
  privateDirectory(dataDir);
  const lockFile = path.join(dataDir, "pglite.pid");
  let holder: number | undefined;
  try {
    holder = Number(readFileSync(lockFile, "utf8").trim()) || undefined;
  } catch {
    holder = undefined;
  }
  if (holder && holder !== process.pid && isAlive(holder)) {
    throw new Error(
      `The embedded database in ${dataDir} is in use by process ${holder}. Stop that process first, ` +
        "or point DATABASE_URL at a Postgres server to run several processes.",
    );
  }
  writeFileSync(lockFile, String(process.pid), { mode: 0o600 });
  privateFile(lockFile);
  process.once("exit", () => {
    try {
      if (readFileSync(lockFile, "utf8").trim() === String(process.pid)) rmSync(lockFile);
    } catch {
      // already gone
    }
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
