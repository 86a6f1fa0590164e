import { createHash } from "node:crypto";
import pg from "pg";
import { pool } from "../db/client.js";

// One write statement in plain SQL through the counted pool, for the write
// path that runs most often (recordUsage: usageCharges.ts). Same conventions
// as the reads of src/read/sql.ts: rows in Prisma's shape (BIGINT as
// BigInt, timestamps as Date), named prepared statements except on the
// embedded database (see db/prepare.ts).

const INT8_OID = 20;

const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const statementNames = new Map<string, string>();
const namedStatements = process.env.DATABASE_NAMED_STATEMENTS !== "off";

/**
 * Runs one statement on its own (autocommit: it commits when it succeeds
 * and leaves nothing behind when it fails) and returns its rows.
 */
export async function sqlWrite<T>(text: string, values: unknown[]): Promise<T[]> {
  if (!namedStatements) return (await pool.query({ text, values, types })).rows as T[];
  let name = statementNames.get(text);
  if (!name) {
    name = `write_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    statementNames.set(text, name);
  }
  return (await pool.query({ name, text, values, types })).rows as T[];
}

/** The constraint a Postgres error names, for errors of `code` (e.g. "23505" unique, "23514" check). */
export function violatedConstraint(error: unknown, code: string): string | undefined {
  return error instanceof pg.DatabaseError && error.code === code ? error.constraint : undefined;
}
