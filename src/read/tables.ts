import { getDatamodel } from "../generated/pothos-types.js";

// The tables the hot read paths read in plain SQL (db/sql.ts runs them).

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
