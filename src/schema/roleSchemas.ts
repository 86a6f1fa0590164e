import { MapperKind, mapSchema, pruneSchema } from "@graphql-tools/utils";
import { GraphQLError, type GraphQLSchema } from "graphql";
import type { Plugin } from "graphql-yoga";
import { type Action, type Role, roleMayPerform } from "../auth/actions.js";

export type { Role };
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
function grants(extensions: GrantExtensions | null | undefined, role: Role): boolean {
  // Types a role can never receive say which roles they are for.
  const visibleTo = (extensions?.visibleTo ?? extensions?.pothosOptions?.extensions?.visibleTo) as readonly Role[] | undefined;
  if (visibleTo) return visibleTo.includes(role);
  // Mutations and input fields name their action (auth/actions.ts): the table decides.
  const action = (extensions?.action ?? extensions?.pothosOptions?.extensions?.action) as Action | undefined;
  if (action) return roleMayPerform(role, action);
  const scopes = extensions?.pothosOptions?.authScopes;
  if (!scopes || typeof scopes !== "object") return true;
  return Object.entries(scopes).some(([scope, on]) => on === true && SCOPE_ROLES[scope]?.includes(role));
}

/** What `grants` reads of a type's or field's extensions: ours, or Pothos' copy of the options they were defined with. */
interface GrantExtensions {
  visibleTo?: unknown;
  action?: unknown;
  pothosOptions?: { extensions?: { visibleTo?: unknown; action?: unknown }; authScopes?: unknown };
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
    [MapperKind.INPUT_OBJECT_FIELD]: (field) => (grants(field.extensions, role) ? field : null),
  });
  return pruneSchema(mapped);
}

/** One schema per role, built once. */
export function buildRoleSchemas(schema: GraphQLSchema): Record<Role, GraphQLSchema> {
  return Object.fromEntries(ROLES.map((role) => [role, schemaForRole(schema, role)])) as Record<Role, GraphQLSchema>;
}

const MISSING_FIELD = /^Cannot query field "(\w+)" on type "(\w+)"/;
const MISSING_TYPE = /^Unknown type "(\w+)"/;
const MISSING_INPUT_FIELD = /Field "(\w+)" is not defined by type "(\w+)"/;

/**
 * The full schema's name for what an error says is missing ("SubAccount.manager",
 * "UpdateSubAccountInput.creditLimit", "PriceList"), when it exists there:
 * then it is not missing but hidden from the caller's role.
 */
export function hiddenFromRole(fullSchema: GraphQLSchema, message: string): string | undefined {
  for (const pattern of [MISSING_FIELD, MISSING_INPUT_FIELD]) {
    const field = pattern.exec(message);
    if (!field) continue;
    const type = fullSchema.getType(field[2]!);
    return type && "getFields" in type && (type.getFields() as Record<string, unknown>)[field[1]!] ? `${field[2]}.${field[1]}` : undefined;
  }
  const type = MISSING_TYPE.exec(message);
  return type && fullSchema.getType(type[1]!) ? type[1] : undefined;
}

/** The FORBIDDEN error for what a role's schema leaves out. */
export const hiddenError = (hidden: string, error: GraphQLError) =>
  new GraphQLError(`${hidden} is not available to your role`, { nodes: error.nodes, extensions: { code: "FORBIDDEN" } });

/**
 * Names the reason when validation fails on a field or type that exists but
 * not in the caller's role schema: the request still fails before anything
 * runs, and the error carries the contract's FORBIDDEN code instead of a bare
 * "Cannot query field". Fields that exist for no role keep graphql-js's error.
 * (Variables naming a hidden input field are told the same by argumentRules.ts.)
 */
export function useRoleSchemaErrors(fullSchema: GraphQLSchema): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (!result.length) return;
        setResult(
          result.map((error) => {
            const hidden = hiddenFromRole(fullSchema, error.message);
            return hidden ? hiddenError(hidden, error) : error;
          }),
        );
      };
    },
  };
}
