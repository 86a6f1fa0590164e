import type { PrismaModelTypes, PrismaObjectRef } from "@pothos/plugin-prisma";
import { eqValue, type FilteredTextField, likeLiteral, type TextFilter, textFilterProblems } from "../../domain/textFilters.js";
import type PrismaTypes from "../../generated/pothos-types.js";
import type { Account, Prisma } from "../../generated/prisma/client.js";
import { accountRows } from "../../read/accounts.js";
import {
  DEFAULT_SUB_ACCOUNT_SORT,
  SUB_ACCOUNT_SORTS,
  SUB_ACCOUNTS,
  type SubAccountFilter,
  type SubAccountListArgs,
  type SubAccountSort,
} from "../../read/lists.js";
import { type BuilderTypes, builder } from "../builder.js";
import { type SharedConnection, sharedConnection, sqlListConnection } from "../connections.js";
import { AccountStatusEnum } from "../enums.js";
import { AccountRef } from "./Account.js";
import { SubAccountConnection, SubAccountRef } from "./SubAccount.js";

export const ManagerRef: PrismaObjectRef<BuilderTypes, PrismaModelTypes & PrismaTypes["Account"], Account> = builder.prismaNode("Account", {
  variant: "Manager",
  description: "A manager: an account approved by the platform operator that runs a tree of sub-accounts.",
  // A sub-account never receives a manager (its own manager is hidden: SubAccount.manager), so its schema has no such type.
  extensions: { visibleTo: ["OPERATOR", "MANAGER"] },
  interfaces: [AccountRef],
  id: { field: "id" },
  findUnique: (id) => ({ id, kind: "MANAGER" }),
  fields: (t) => ({
    subAccountLimit: t.exposeInt("subAccountLimit", {
      permission: "ACCOUNTS_READ",
      description: "How many sub-accounts that are not closed this manager may have (default 1000; set by operators).",
    }),
    autoDeleteClosedSubAccounts: t.exposeBoolean("autoDeleteClosedSubAccounts", {
      permission: "ACCOUNTS_READ",
      description: "Whether closed sub-accounts are purged with their data 30 days after closing (default true).",
    }),
    subAccounts: t.connection(
      {
        permission: "ACCOUNTS_READ",
        type: SubAccountRef,
        description:
          "The manager's sub-accounts, newest first by default. Closed ones are left out unless `includeClosed` is true or `filter.status` names CLOSED.",
        args: {
          filter: t.arg({ type: SubAccountFilterInput, required: false, description: "Narrow the list." }),
          sort: t.arg({ type: SubAccountSortEnum, defaultValue: DEFAULT_SUB_ACCOUNT_SORT, description: "Order of the list." }),
          includeClosed: t.arg.boolean({ defaultValue: false, description: "Also list CLOSED sub-accounts." }),
        },
        extensions: { validateArgs: validateSubAccountListArgs },
        readsList: SUB_ACCOUNTS,
        // Plain SQL, batched per request (read/lists.ts): the hottest list of the gateway.
        resolve: (manager, args, ctx, info) =>
          // Their numbers and keys may name them again: whole rows serve those without a second read.
          sqlListConnection<SubAccountFilter, SubAccountListArgs, Account>(SUB_ACCOUNTS, ctx, info, manager.id, args, (rows, wholeRows) => {
            if (wholeRows) for (const row of rows) accountRows(ctx).prime(row.id, row);
          }),
      },
      SubAccountConnection,
    ),
  }),
});

export const ManagerConnection: SharedConnection = sharedConnection(ManagerRef, "Manager", "managers");

// ------------------------------------------------------------- listing

export const StringFilterInput = builder.inputType("StringFilter", {
  description: "Conditions on a text field; given together, all must hold.",
  fields: (t) => ({
    eq: t.string({ required: false, description: "Exactly this value (emails compare lowercased)." }),
    contains: t.string({
      required: false,
      description: "Contains this text, case-insensitively; at least 3 characters; `%` and `_` are taken literally.",
    }),
  }),
});

export const SubAccountFilterInput = builder.inputType("SubAccountFilter", {
  description: "Filters for `Manager.subAccounts`; all given conditions must hold.",
  fields: (t) => ({
    email: t.field({ type: StringFilterInput, required: false, description: "Condition on the email." }),
    organizationName: t.field({ type: StringFilterInput, required: false, description: "Condition on the organization name." }),
    status: t.field({
      type: [AccountStatusEnum],
      required: false,
      description: "Only these statuses. Naming CLOSED includes closed sub-accounts.",
    }),
  }),
});

export const ManagerFilterInput = builder.inputType("ManagerFilter", {
  description: "Filters for `managers`; all given conditions must hold.",
  fields: (t) => ({
    email: t.field({ type: StringFilterInput, required: false, description: "Condition on the email." }),
    organizationName: t.field({ type: StringFilterInput, required: false, description: "Condition on the organization name." }),
  }),
});

export const SubAccountSortEnum = builder.enumType("SubAccountSort", {
  description: "Orders for listing sub-accounts.",
  // One value per order the list can run (read/lists.ts).
  values: Object.fromEntries(Object.entries(SUB_ACCOUNT_SORTS).map(([name, { description }]) => [name, { description }])) as Record<
    SubAccountSort,
    { description: string }
  >,
});

/** The Prisma condition for a text filter (domain/textFilters.ts says what it means). */
export function stringCondition(field: FilteredTextField, filter: TextFilter | null | undefined): Prisma.AccountWhereInput[] {
  if (!filter) return [];
  const conditions: Prisma.AccountWhereInput[] = [];
  if (filter.eq != null) conditions.push({ [field]: eqValue(field, filter.eq) });
  if (filter.contains != null) conditions.push({ [field]: { contains: likeLiteral(filter.contains), mode: "insensitive" } });
  return conditions;
}

/** Argument rules checked before execution (see schema/argumentRules.ts). */
// biome-ignore lint/suspicious/noExplicitAny: graphql-js types coerced arguments as any; the schema decided their shapes
export function validateStringFilters(args: Record<string, any>): string[] {
  return textFilterProblems(args.filter);
}

// biome-ignore lint/suspicious/noExplicitAny: graphql-js types coerced arguments as any; the schema decided their shapes
function validateSubAccountListArgs(args: Record<string, any>): string[] {
  const problems = validateStringFilters(args);
  const status = args.filter?.status as string[] | null | undefined;
  if (status && status.length === 0) problems.push("filter.status must name at least one status");
  return problems;
}
