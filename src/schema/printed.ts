import { lexicographicSortSchema, printSchema } from "graphql";
import { schema } from "./index.js";
import { buildRoleSchemas } from "./roleSchemas.js";

/** The committed schema files and their contents: the full schema and each role's. */
export function printedSchemas(): Record<string, string> {
  const roles = buildRoleSchemas(schema);
  const print = (s: typeof schema) => `${printSchema(lexicographicSortSchema(s))}\n`;
  return {
    "schema.graphql": print(schema),
    "schemas/operator.graphql": print(roles.OPERATOR),
    "schemas/manager.graphql": print(roles.MANAGER),
    "schemas/sub-account.graphql": print(roles.SUB_ACCOUNT),
  };
}
