import { createHash } from "node:crypto";
import pg from "pg";
import { pool } from "../db/client.js";
import { getDatamodel } from "../generated/pothos-types.js";

// Plain SQL for the hot read paths (lists of accounts, phone numbers and API
// keys). Prisma stays the way everything is written and most things are
// read; these lists are read often and wide, and Prisma's per-row mapping and
// relation JSON cost more than the query itself (docs/benchmarks.md).
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
const namedStatements = process.env.DATABASE_NAMED_STATEMENTS !== "off";

/**
 * Runs one read statement as a named prepared statement, so Postgres plans
 * each distinct text once per connection (texts vary only by filter shape;
 * values are always parameters). Unnamed on the embedded database (see
 * db/prepare.ts).
 */
export async function sqlRows<T>(text: string, values: unknown[]): Promise<T[]> {
  if (!namedStatements) return (await pool.query({ text, values, types })).rows as T[];
  let name = statementNames.get(text);
  if (!name) {
    name = `read_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    statementNames.set(text, name);
  }
  const result = await pool.query({ name, text, values, types });
  return result.rows as T[];
}

export type Model = "Account" | "PhoneNumber" | "ApiKey";

const TABLES: Record<Model, string> = { Account: "accounts", PhoneNumber: "phone_numbers", ApiKey: "api_keys" };
const tables = new Map<Model, { table: string; columns: string }>();

/** A model's table and all its columns (alias `t`), from the Prisma datamodel: rows keep Prisma's full shape. */
export function tableOf(model: Model): { table: string; columns: string } {
  let found = tables.get(model);
  if (!found) {
    const fields = getDatamodel().datamodel.models[model]!.fields;
    const columns = fields.filter((f) => f.kind === "scalar" || f.kind === "enum").map((f) => `t."${f.name}"`);
    found = { table: `"${TABLES[model]}"`, columns: columns.join(", ") };
    tables.set(model, found);
  }
  return found;
}
