import { MapperKind, mapSchema, pruneSchema } from "@graphql-tools/utils";
import { type ASTNode, type DocumentNode, GraphQLError, type GraphQLSchema, type GraphQLType, getNamedType, isUnionType, Kind } from "graphql";
import type { Plugin } from "graphql-yoga";
import { LRUCache } from "lru-cache";
import { type Action, PERMISSIONS, type Permission, permissionsOfAction, type Role, roleMayPerform } from "../auth/actions.js";
import { permissionsOf, type Viewer } from "../auth/viewer.js";

export type { Role };
export const ROLES: readonly Role[] = ["OPERATOR", "MANAGER", "SUB_ACCOUNT"];

/** Which roles each auth scope of builder.ts grants. */
const SCOPE_ROLES: Record<string, readonly Role[]> = {
  operator: ["OPERATOR"],
  manager: ["MANAGER"],
  subAccount: ["SUB_ACCOUNT"],
  privileged: ["OPERATOR", "MANAGER"],
};

/** A role, and the permissions its key is restricted to (null: unrestricted). */
export interface Audience {
  role: Role;
  permissions: ReadonlySet<Permission> | null;
}

/**
 * Whether a type or field with these extensions is part of an audience's
 * schema. Its role: the type's `visibleTo`, the action a mutation or input
 * field names (auth/actions.ts), or its Pothos `authScopes` (any of them
 * must grant the role; options without static scopes are for everyone,
 * dynamic ones are decided at run time). Its permissions: the permission
 * the field or type declares (schema/permissionsPlugin.ts), or its action's.
 */
function grants(extensions: GrantExtensions | null | undefined, { role, permissions }: Audience): boolean {
  if (permissions && permissionsNeeded(extensions).some((p) => !permissions.has(p))) return false;
  const { visibleTo, action } = declared(extensions);
  // Types a role can never receive say which roles they are for.
  if (visibleTo) return visibleTo.includes(role);
  // Mutations and input fields name their action: the table decides.
  if (action) return roleMayPerform(role, action);
  const scopes = extensions?.pothosOptions?.authScopes;
  if (!scopes || typeof scopes !== "object") return true;
  return Object.entries(scopes).some(([scope, on]) => on === true && SCOPE_ROLES[scope]?.includes(role));
}

/** What `grants` reads of a type's or field's extensions: ours, or Pothos' copy of the options they were defined with. */
interface GrantExtensions {
  visibleTo?: unknown;
  action?: unknown;
  permission?: unknown;
  pothosOptions?: { extensions?: { visibleTo?: unknown; action?: unknown; permission?: unknown }; authScopes?: unknown };
}

/** The permissions a restricted key needs for a type or field: the one it declares, or its action's. */
function permissionsNeeded(extensions: GrantExtensions | null | undefined): readonly Permission[] {
  const { permission, action } = declared(extensions);
  return permission ? [permission] : action ? permissionsOfAction(action) : [];
}

/** What a type or field declares for the role schemas, wherever Pothos put it. */
function declared(extensions: GrantExtensions | null | undefined): { visibleTo?: readonly Role[]; action?: Action; permission?: Permission } {
  const own = { ...extensions?.pothosOptions?.extensions, ...extensions };
  return {
    visibleTo: own.visibleTo as readonly Role[] | undefined,
    action: own.action as Action | undefined,
    permission: own.permission as Permission | undefined,
  };
}

/**
 * The schema an audience sees: the full schema less every type and field
 * its role may not use or its key's permissions do not cover, and whatever
 * only they reached. So a sub-account's introspection has no pricing,
 * ledger or manager-only operation, a key without EVENTS_READ has no event
 * anywhere, and naming one fails validation. The field rules and the
 * permissions stay on in the resolvers as a second line.
 */
export function schemaForAudience(schema: GraphQLSchema, audience: Audience): GraphQLSchema {
  const mapped = mapSchema(schema, {
    [MapperKind.OBJECT_TYPE]: (type) => (grants(type.extensions, audience) ? type : null),
    [MapperKind.INTERFACE_TYPE]: (type) => (grants(type.extensions, audience) ? type : null),
    [MapperKind.COMPOSITE_FIELD]: (field) => (grants(field.extensions, audience) ? field : null),
    [MapperKind.ROOT_FIELD]: (field) => (grants(field.extensions, audience) ? field : null),
    [MapperKind.INPUT_OBJECT_FIELD]: (field) => (grants(field.extensions, audience) ? field : null),
  });
  return pruneSchema(mapped);
}

/** The schema a role sees with an unrestricted key. */
export const schemaForRole = (schema: GraphQLSchema, role: Role): GraphQLSchema => schemaForAudience(schema, { role, permissions: null });

/** One schema per role, built once. */
export function buildRoleSchemas(schema: GraphQLSchema): Record<Role, GraphQLSchema> {
  return Object.fromEntries(ROLES.map((role) => [role, schemaForRole(schema, role)])) as Record<Role, GraphQLSchema>;
}

/**
 * Distinct restricted audiences kept built. There are 2^9 permission sets
 * for a manager's key and 2^8 that differ for a sub-account's (BILLING_READ
 * changes nothing there); a platform uses a handful. Each costs about 75 KiB
 * and 30 ms to build (docs/benchmarks.md); one evicted is rebuilt on its next
 * request, so the bound only caps memory.
 */
const RESTRICTED_SCHEMAS_KEPT = 256;

/** The schema of each caller, and its role's for explaining what it leaves out. */
export interface SchemaSelector {
  /** The full schema, as printed (every role's, unrestricted). */
  readonly full: GraphQLSchema;
  forAudience(audience: Audience): GraphQLSchema;
  forRole(role: Role): GraphQLSchema;
}

/**
 * The schema of each caller: its role's, built once, or for a restricted
 * key its role's less what its permissions do not cover, built once per
 * distinct (role, permissions) and kept in a bounded cache. Each schema is
 * one object per audience, so documents compiled against it
 * (http/compiledExecution.ts) are never run for another.
 */
export function createSchemaSelector(schema: GraphQLSchema): SchemaSelector {
  const roles = buildRoleSchemas(schema);
  const namedBy = Object.fromEntries(ROLES.map((role) => [role, permissionsNamedIn(roles[role])])) as Record<Role, ReadonlySet<Permission>>;
  const restricted = new LRUCache<string, GraphQLSchema>({ max: RESTRICTED_SCHEMAS_KEPT });
  return {
    full: schema,
    forRole: (role) => roles[role],
    forAudience: ({ role, permissions }) => {
      if (!permissions) return roles[role];
      // Only the permissions the role's schema names tell two audiences apart.
      const key = `${role}:${PERMISSIONS.filter((p) => permissions.has(p) && namedBy[role].has(p)).join(",")}`;
      let built = restricted.get(key);
      if (!built) {
        built = schemaForAudience(schema, { role, permissions });
        restricted.set(key, built);
      }
      return built;
    },
  };
}

/** Every permission a schema's types, fields and mutations need somewhere. */
function permissionsNamedIn(schema: GraphQLSchema): ReadonlySet<Permission> {
  const named = new Set<Permission>();
  for (const type of Object.values(schema.getTypeMap())) {
    for (const p of permissionsNeeded(type.extensions)) named.add(p);
    if (!("getFields" in type)) continue;
    for (const field of Object.values(type.getFields() as Record<string, { extensions?: GrantExtensions }>)) {
      for (const p of permissionsNeeded(field.extensions)) named.add(p);
    }
  }
  return named;
}

/** The audience of a request's caller: its role and its key's permissions. */
export const audienceOf = (viewer: Viewer): Audience => ({ role: viewer.role, permissions: permissionsOf(viewer) });

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
    const name = `${field[2]}.${field[1]}`;
    return hasField(fullSchema, name) ? name : undefined;
  }
  const type = MISSING_TYPE.exec(message);
  return type && fullSchema.getType(type[1]!) ? type[1] : undefined;
}

/**
 * The permissions a restricted key needs for what its schema leaves out
 * ("Account.events", "Event", "CreateApiKeyInput"), as its role's schema
 * has it: the field's own, its mutation's action's, or its type's; for an
 * input or payload type, its mutation's.
 */
function permissionsFor(roleSchema: GraphQLSchema, hidden: string): readonly Permission[] {
  const [typeName, fieldName] = hidden.split(".");
  const type = roleSchema.getType(typeName!);
  if (!type) return [];
  if (!fieldName) {
    const own = declared(type.extensions).permission;
    if (own) return [own];
    // An input or payload type is its mutation's: it needs what the mutation does.
    const mutation = Object.values(roleSchema.getMutationType()?.getFields() ?? {}).find((m) => {
      const result = getNamedType(m.type);
      return m.args.some((a) => getNamedType(a.type) === type) || result === type || (isUnionType(result) && result.getTypes().includes(type as never));
    });
    return mutation ? permissionsFor(roleSchema, `Mutation.${mutation.name}`) : [];
  }
  const field = "getFields" in type ? (type.getFields() as Record<string, { type?: GraphQLType; extensions?: GrantExtensions }>)[fieldName] : undefined;
  if (!field) return [];
  const own = permissionsNeeded(field.extensions);
  return own.length || !field.type ? own : permissionsNeeded(getNamedType(field.type).extensions as GrantExtensions);
}

/**
 * The FORBIDDEN error for what the caller's schema leaves out: the
 * permission its key lacks, when it is that, else its role.
 */
export function hiddenError(
  hidden: string,
  error: { nodes?: readonly ASTNode[] | undefined },
  selector: SchemaSelector,
  audience: Audience | undefined,
): GraphQLError {
  const restricted = audience?.permissions;
  // Only a restricted key's schema leaves out what its role's has: else it is the role.
  const roleSchema = restricted && selector.forRole(audience.role);
  const inRoleSchema = roleSchema && (hidden.includes(".") ? hasField(roleSchema, hidden) : !!roleSchema.getType(hidden));
  const permission = inRoleSchema ? permissionsFor(roleSchema, hidden).find((p) => !restricted.has(p)) : undefined;
  const message = permission
    ? `${hidden} needs the ${permission} permission, which this API key lacks`
    : inRoleSchema
      ? `${hidden} is not covered by this API key's permissions`
      : `${hidden} is not available to your role`;
  return new GraphQLError(message, { nodes: error.nodes, extensions: { code: "FORBIDDEN", ...(permission && { permission }) } });
}

function hasField(schema: GraphQLSchema, hidden: string): boolean {
  const [typeName, fieldName] = hidden.split(".");
  const type = schema.getType(typeName!);
  return !!type && "getFields" in type && !!(type.getFields() as Record<string, unknown>)[fieldName!];
}

const ROOTS = { query: "Query", mutation: "Mutation", subscription: "Subscription" } as const;

/**
 * Operations whose root type the caller's schema lacks altogether (a key
 * that may make no change has no Mutation type; one without EVENTS_READ no
 * Subscription): graphql-js would refuse them only at execution, as "Schema
 * is not configured", with no code. They are FORBIDDEN at validation, naming
 * the first root field the caller may not use.
 */
function missingRoots(document: DocumentNode, schema: GraphQLSchema, full: GraphQLSchema): { named: string; nodes: readonly ASTNode[] }[] {
  const missing = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || schema.getRootType(definition.operation) || !full.getRootType(definition.operation)) continue;
    const root = ROOTS[definition.operation];
    const first = definition.selectionSet.selections.find((s) => s.kind === Kind.FIELD && !s.name.value.startsWith("__"));
    const named = first?.kind === Kind.FIELD && hasField(full, `${root}.${first.name.value}`) ? `${root}.${first.name.value}` : root;
    missing.push({ named, nodes: [first ?? definition] });
  }
  return missing;
}

/**
 * Names the reason when validation fails on a field or type that exists but
 * not in the caller's schema: the request still fails before anything
 * runs, and the error carries the contract's FORBIDDEN code instead of a bare
 * "Cannot query field". Fields that exist for no role keep graphql-js's error.
 * (Variables naming a hidden input field are told the same by argumentRules.ts.)
 */
export function useRoleSchemaErrors(selector: SchemaSelector, audienceOfRequest: (request: Request) => Audience | undefined): Plugin {
  return {
    onValidate({ context, params }) {
      return ({ result, setResult }) => {
        const roots = missingRoots(params.documentAST, params.schema, selector.full);
        if (!result.length && !roots.length) return;
        const audience = audienceOfRequest((context as { request: Request }).request);
        setResult([
          ...roots.map(({ named, nodes }) => hiddenError(named, { nodes }, selector, audience)),
          ...result.map((error) => {
            const hidden = hiddenFromRole(selector.full, error.message);
            return hidden ? hiddenError(hidden, error, selector, audience) : error;
          }),
        ]);
      };
    },
  };
}
