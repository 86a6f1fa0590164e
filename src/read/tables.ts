import { getDatamodel } from "../generated/pothos-types.js";

// The tables the hot read paths read in plain SQL (db/sql.ts runs them).

export type Model = "Account" | "PhoneNumber" | "ApiKey";

const TABLES: Record<Model, string> = { Account: "accounts", PhoneNumber: "phone_numbers", ApiKey: "api_keys" };

/** A column and its Prisma type ("String", "DateTime", "BigInt", an enum's name...). */
export interface Column {
  name: string;
  type: string;
}

interface Table {
  table: string;
  /** Every column, as a select list on alias `t`. */
  columns: string;
  fields: readonly Column[];
}
const tables = new Map<Model, Table>();

/** A model's table and all its columns, from the Prisma datamodel: rows keep Prisma's full shape. */
export function tableOf(model: Model): Table {
  let found = tables.get(model);
  if (!found) {
    const fields = getDatamodel().datamodel.models[model]!.fields;
    const columns = fields.filter((f) => f.kind === "scalar" || f.kind === "enum").map((f) => ({ name: f.name, type: f.type }));
    found = { table: `"${TABLES[model]}"`, columns: columns.map((c) => `t."${c.name}"`).join(", "), fields: columns };
    tables.set(model, found);
  }
  return found;
}
