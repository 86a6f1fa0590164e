import { MapperKind, mapSchema, pruneSchema } from "@graphql-tools/utils";
import type { GraphQLSchema } from "graphql";
import type { Viewer } from "../auth/viewer.js";

export type Role = Viewer["role"];
export const ROLES: readonly Role[] = ["OPERATOR", "MANAGER", "SUB_ACCOUNT"];

/** Which roles each auth scope of builder.ts grants. */
const SCOPE_ROLES: Record<string, readonly Role[]> = {
  operator: ["OPERATOR"],
  manager: ["MANAGER"],
  subAccount: ["SUB_ACCOUNT"],
  privileged: ["OPERATOR", "MANAGER"],
};

/**
 * Whether a type or field with these Pothos options is part of a role's
 * schema: its `authScopes` (any of them) must grant the role. Options
 * without static scopes are for everyone; dynamic ones are decided at run time.
 */
function grants(extensions: Record<string, any> | null | undefined, role: Role): boolean {
  const scopes = extensions?.pothosOptions?.authScopes;
  if (!scopes || typeof scopes !== "object") return true;
  return Object.entries(scopes).some(([scope, on]) => on === true && SCOPE_ROLES[scope]?.includes(role));
}

/**
 * The schema a role sees: the full schema less every type and field whose
 * scope-auth rule excludes the role, and whatever only they reached. So a
 * sub-account's introspection has no pricing, ledger or manager-only
 * operation, and naming one fails validation. The field rules stay on in
 * the resolvers as a second line.
 */
export function schemaForRole(schema: GraphQLSchema, role: Role): GraphQLSchema {
  const mapped = mapSchema(schema, {
    [MapperKind.OBJECT_TYPE]: (type) => (grants(type.extensions, role) ? type : null),
    [MapperKind.INTERFACE_TYPE]: (type) => (grants(type.extensions, role) ? type : null),
    [MapperKind.COMPOSITE_FIELD]: (field) => (grants(field.extensions, role) ? field : null),
    [MapperKind.ROOT_FIELD]: (field) => (grants(field.extensions, role) ? field : null),
  });
  return pruneSchema(mapped);
}

/** One schema per role, built once. */
export function buildRoleSchemas(schema: GraphQLSchema): Record<Role, GraphQLSchema> {
  return Object.fromEntries(ROLES.map((role) => [role, schemaForRole(schema, role)])) as Record<Role, GraphQLSchema>;
}
