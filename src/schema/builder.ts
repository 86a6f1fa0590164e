import SchemaBuilder from "@pothos/core";
import DataloaderPlugin from "@pothos/plugin-dataloader";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLError } from "graphql";
import { isProduction } from "../config.js";
import type { Context } from "../context.js";
import { prisma } from "../db/client.js";
import { PAGE_SIZE } from "../domain/paging.js";
import type PrismaTypes from "../generated/pothos-types.js";
import { getDatamodel } from "../generated/pothos-types.js";
import "./permissionsPlugin.js";
import "./readsPlugin.js";

/** The error a field gives a role that may not read it: null plus FORBIDDEN. */
export function forbiddenFieldError(): GraphQLError {
  return new GraphQLError("This field is not available to your role", { extensions: { code: "FORBIDDEN" } });
}

/**
 * The options of every field of prices, costs and ledgers: managers and
 * operators only (scope-auth; a sub-account's schema leaves them out), and
 * for a restricted key only with BILLING_READ (schema/permissionsPlugin.ts).
 */
export const BILLING_DATA = { authScopes: { privileged: true }, permission: "BILLING_READ" } as const;

// Plugin order matters: scope-auth first, so its checks wrap every other plugin's resolvers.
export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  AuthScopes: {
    operator: boolean;
    manager: boolean;
    subAccount: boolean;
    /** Operators and managers: everything DOMAIN.md hides from sub-accounts. */
    privileged: boolean;
  };
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
    EmailAddress: { Input: string; Output: string };
    E164: { Input: string; Output: string };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
    URL: { Input: URL; Output: URL | string };
  };
}>({
  // "reads": what each field reads of its row and which SQL list it is (schema/readsPlugin.ts).
  // "permissions": what each field needs of a restricted API key (schema/permissionsPlugin.ts).
  plugins: [ScopeAuthPlugin, "permissions", PrismaPlugin, RelayPlugin, DataloaderPlugin, "reads"],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: ({ viewer }) => ({
      operator: viewer.role === "OPERATOR",
      manager: viewer.role === "MANAGER",
      subAccount: viewer.role === "SUB_ACCOUNT",
      privileged: viewer.role !== "SUB_ACCOUNT",
    }),
    unauthorizedError: () => forbiddenFieldError(),
  },
  prisma: {
    client: prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    // The page-size rule (1..250, default 20) is enforced before execution by
    // schema/argumentRules.ts; these only make Pothos agree with it.
    maxConnectionSize: PAGE_SIZE.max,
    defaultConnectionSize: PAGE_SIZE.default,
    onUnusedQuery: isProduction() ? null : "warn",
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    // `node` and `nodes` are defined in schema/node.ts, through the row filters.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    nodeTypeOptions: { description: "An object with an opaque global id, fetchable with `node` and `nodes`." },
    idFieldOptions: { description: "Opaque global id; never a bare database id." },
    pageInfoTypeOptions: { description: "Where a page stands in its list, for cursor pagination." },
    hasNextPageFieldOptions: { description: "Whether more items follow this page." },
    hasPreviousPageFieldOptions: { description: "Whether items precede this page." },
    startCursorFieldOptions: { description: "Cursor of the first item of the page." },
    endCursorFieldOptions: { description: "Cursor of the last item of the page; pass it as `after` for the next page." },
    firstArgOptions: { defaultValue: PAGE_SIZE.default, description: `Page size, ${PAGE_SIZE.min} to ${PAGE_SIZE.max} (default ${PAGE_SIZE.default}).` },
    afterArgOptions: { description: "Return items after this cursor (an `endCursor` or edge `cursor` of this list)." },
    lastArgOptions: { description: "Page size from the end, 1 to 250, with `before`." },
    beforeArgOptions: { description: "Return items before this cursor." },
    cursorFieldOptions: { description: "Opaque cursor of this item, for `after`/`before`." },
    nodeFieldOptions: { description: "The item." },
    edgesFieldOptions: { description: "The items of the page, each with its cursor." },
    pageInfoFieldOptions: { description: "Pagination state of this page." },
    nodesOnConnection: { description: "The items of the page." },
  },
});

/** The builder's type parameters, for annotating refs that reference each other across modules. */
export type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

builder.queryType({ description: "Read the account tree, as far as the caller may see it." });
builder.mutationType({ description: "Change the account tree. Every mutation returns a union of its success type and its typed errors." });
