import { createHash } from "node:crypto";
import pg from "pg";
import { databaseSettings } from "../config.js";
import { pool } from "./client.js";

// Plain SQL through the counted pool, for the paths that run most often: the
// tree's reads (src/read/) and recordUsage (services/usageCharges.ts). Prisma
// stays the way everything else is written and read; on these paths its
// per-statement and per-row work cost more than the query itself
// (docs/benchmarks.md).
//
// Rows come back in the shape Prisma returns them (same field names, BigInt
// for BIGINT, Date for timestamps), so the schema's object types and the
// Prisma plugin's per-row fallbacks read them like any Prisma row.

const INT8_OID = 20;

/** BIGINT as BigInt, like Prisma; everything else as pg parses it (timestamps as Date). */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const statementNames = new Map<string, string>();
/** Distinct statement texts prepared by name on each connection, at most. */
const MAX_NAMED_STATEMENTS = 500;
const { namedStatements } = databaseSettings();

/**
 * Runs one statement on its own (autocommit: a write commits when it
 * succeeds and leaves nothing behind when it fails) and returns its rows.
 * It runs as a named prepared statement, so Postgres plans each distinct text
 * once per connection (texts vary only by shape; values are always
 * parameters); unnamed on the embedded database (see db/prepare.ts), and
 * with `planPerValues` for statements whose best plan depends on the values
 * (a rare `contains` wants the trigram index, a common one does not; a
 * prepared statement's generic plan cannot tell them apart).
 */
export async function runSql<T>(text: string, values: unknown[], options: { planPerValues?: boolean } = {}): Promise<T[]> {
  return (await pool.query(queryConfig(text, values, options))).rows as T[];
}

/** A statement as pg sends it: named (prepared once per connection) where runSql's rules allow, with our type parsers. */
function queryConfig(text: string, values: unknown[], options: { planPerValues?: boolean } = {}): pg.QueryConfig {
  if (!namedStatements || options.planPerValues) return { text, values, types };
  let name = statementNames.get(text);
  // Texts vary with the query's shape (columns, nested lists, filters), which
  // clients choose: past a bound, new shapes run unnamed rather than leaving
  // a prepared statement on every connection for each.
  if (!name && statementNames.size >= MAX_NAMED_STATEMENTS) return { text, values, types };
  if (!name) {
    name = `stmt_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    statementNames.set(text, name);
  }
  return { name, text, values, types };
}

/** Runs one statement and returns its rows: runSql's shape, on a connection or transaction chosen by whoever made it. */
export type SqlRunner = <T>(text: string, values: unknown[]) => Promise<T[]>;

/**
 * Runs `work` in one transaction on one connection of the pool, its
 * statements answering as runSql's do (same row shapes, pg's own errors, so a
 * violated constraint is told the same way). Commits when `work` resolves,
 * rolls back when it throws. For a charge that must run more than one
 * statement under its locks (usageCharges.ts, with usage triggers).
 */
export async function inSqlTransaction<T>(work: (run: SqlRunner) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(async <R>(text: string, values: unknown[]) => (await client.query(queryConfig(text, values))).rows as R[]);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    // A connection that cannot even roll back is dropped, not handed to the next request.
    await client.query("ROLLBACK").catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** The constraint a Postgres error names, for errors of `code` (e.g. "23505" unique, "23514" check). */
export function violatedConstraint(error: unknown, code: string): string | undefined {
  return error instanceof pg.DatabaseError && error.code === code ? error.constraint : undefined;
}
