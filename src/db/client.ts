import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { type DatabaseSettings, databaseSettings } from "../config.js";
import { PrismaClient } from "../generated/prisma/client.js";

/**
 * SQL statements sent by this process. Tests read it around a request to
 * prove that a query costs a fixed number of statements (no N+1).
 */
export const statementCounter = { count: 0 };

// On the embedded database the pool holds ONE connection (see prepare.ts).
// So inside an interactive transaction, use its `tx` only: a query on the
// global `prisma` would wait for the connection the transaction holds.
function countingPool({ url: connectionString, poolSize: max, acquireTimeoutMs, statementTimeoutMs }: DatabaseSettings & { url: string }): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    // A bounded wait for a connection, new or from the pool: while the
    // database is away a request fails after this (HTTP 503, see
    // db/availability.ts) instead of queueing without end.
    connectionTimeoutMillis: acquireTimeoutMs,
    // The client's own bound, a little past the server's statement_timeout
    // below: a connection whose server vanished without a FIN (a cut network)
    // fails its query here instead of hanging until TCP gives up.
    query_timeout: statementTimeoutMs + 2_000,
    keepAlive: true,
    // Runs once per new connection, before the pool hands it out, so no
    // request's statement can overlap it on that connection.
    onConnect: async (client) => {
      // No JIT compilation of queries: the tree's statement (read/pages.ts)
      // is estimated expensive from its nested subqueries and would be
      // compiled on every run, which costs several times the query itself
      // (24 ms of JIT for a 7 ms statement). Short OLTP statements never gain
      // from it. A SET on each new connection, not a startup option, which
      // poolers such as PgBouncer refuse. Not counted: it belongs to no
      // request.
      // statement_timeout the same way: no statement of a request holds a
      // connection (or its locks) longer than DATABASE_STATEMENT_TIMEOUT_MS.
      // TimeZone UTC: Prisma writes and reads timestamptz values as if the
      // session were UTC, so on a database whose default zone is another it
      // would store instants shifted by the offset (seen with Pacific/Kiritimati).
      await client.query(`SET jit = off; SET statement_timeout = ${Math.trunc(statementTimeoutMs)}; SET TimeZone = 'UTC'`);
      const query = client.query;
      client.query = function countedQuery(this: pg.ClientBase, ...args: unknown[]) {
        statementCounter.count++;
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof client.query;
    },
  });
  // An idle connection dropped by the server (e.g. the embedded database
  // stopping at shutdown) must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  return pool;
}

// Read now, at load, not at start: prepareDatabase has set them by the time this module is imported.
const settings = databaseSettings();
const { url } = settings;
if (!url) {
  throw new Error("DATABASE_URL is not set: start the server through src/server.ts, which prepares the database first");
}

export const pool = countingPool({ ...settings, url });

/** The one Prisma client of the process, over the counted pg pool. */
export const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });

export type Prisma = typeof prisma;
export type Tx = Parameters<Parameters<typeof prisma.$transaction>[0]>[0];

/**
 * Waits (up to `timeoutMs`) until no connection of the pool is in use, then
 * closes it: a request whose client hung up still runs to its end (a charge
 * commits or rolls back) instead of losing its connection mid-transaction.
 */
export async function drainDatabase(timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((pool.totalCount > pool.idleCount || pool.waitingCount > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await disconnectDatabase();
}

/** Closes the pool so the process can exit cleanly. */
export async function disconnectDatabase(): Promise<void> {
  await prisma.$disconnect();
  await pool.end().catch(() => {});
}
