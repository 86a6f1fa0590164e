import DataLoader from "dataloader";
import { requestCache } from "./requestCache.js";
import type { Account, ApiKey, PhoneNumber } from "../generated/prisma/client.js";
import { loadPages, type ListOrder, type ListSpec, type Page, type PageArgs, type Param } from "./pages.js";

// The lists of the account tree, read in plain SQL (see pages.ts), batched
// per request: the pages of one list asked for many parents with the same
// arguments (phone numbers of every sub-account of a page) are one statement.
//
// Authorization: every list here hangs off a parent row the caller already
// reached through the row filters (auth/rowFilters.ts); a manager's
// sub-accounts, or an account's numbers and keys, are reachable exactly when
// their parent is, so the lists add no filter of their own.

export interface TextFilter {
  eq?: string | null;
  contains?: string | null;
}

export interface SubAccountFilter {
  email?: TextFilter | null;
  organizationName?: TextFilter | null;
  status?: readonly string[] | null;
  includeClosed: boolean;
}

/** `%`, `_` and `\` are LIKE metacharacters: escape them so they match themselves. */
export const likeLiteral = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`);

function textConditions(column: string, filter: TextFilter | null | undefined, param: Param): string[] {
  if (!filter) return [];
  const conditions: string[] = [];
  // Emails are stored lowercased, so an exact email match lowercases too.
  if (filter.eq != null) conditions.push(`t."${column}" = ${param(column === "email" ? filter.eq.toLowerCase() : filter.eq)}`);
  // ILIKE with the value's metacharacters escaped; served by the trigram indexes (migration 0002).
  if (filter.contains != null) conditions.push(`t."${column}" ILIKE ${param(`%${likeLiteral(filter.contains)}%`)}`);
  return conditions;
}

export const subAccountList: ListSpec<SubAccountFilter> = {
  model: "Account",
  parentColumn: "managerId",
  conditions: (filter, param) => {
    const conditions = [...textConditions("email", filter.email, param), ...textConditions("organizationName", filter.organizationName, param)];
    if (filter.status) conditions.push(`t."status"::text = ANY(${param([...filter.status])}::text[])`);
    else if (!filter.includeClosed) conditions.push(`t."status" <> 'CLOSED'`);
    return conditions;
  },
};

export const phoneNumberList: ListSpec<{ includeReleased: boolean }> = {
  model: "PhoneNumber",
  parentColumn: "accountId",
  conditions: (filter) => (filter.includeReleased ? [] : [`t."status" = 'ACTIVE'`]),
};

export const apiKeyList: ListSpec<{ includeRevoked: boolean }> = {
  model: "ApiKey",
  parentColumn: "accountId",
  conditions: (filter) => (filter.includeRevoked ? [] : [`t."revokedAt" IS NULL`]),
};

export const NEWEST_FIRST_ORDER: ListOrder = { columns: ["createdAt", "id"], direction: "DESC" };

export interface PageKey<Filter> {
  parentId: string;
  filter: Filter;
  order: ListOrder;
  page: PageArgs;
  withCount: boolean;
}

/**
 * Runs a batch once the current burst of resolvers has settled (setImmediate,
 * not DataLoader's default next tick), so sibling lists resolved in different
 * promise chains still share one batch.
 */
const afterResolvers = (dispatch: () => void) => void setImmediate(dispatch);

/** The arguments a page shares with other parents' pages of the same list (all but the parent). */
const argumentsKey = (key: PageKey<unknown>) => JSON.stringify([key.filter, key.order, key.page, key.withCount]);

function pageLoader<Filter, Row extends { id: string }>(spec: ListSpec<Filter>) {
  return requestCache(
    () =>
      new DataLoader<PageKey<Filter>, Page<Row>, string>(
        async (keys) => {
          // One statement per distinct set of arguments, for all the parents that share it.
          const groups = new Map<string, { key: PageKey<Filter>; parentIds: string[] }>();
          const groupOf = keys.map((key) => {
            const id = argumentsKey(key);
            let group = groups.get(id);
            if (!group) groups.set(id, (group = { key, parentIds: [] }));
            group.parentIds.push(key.parentId);
            return group;
          });
          const results = new Map<object, Map<string, Page<Row>>>();
          await Promise.all(
            [...groups.values()].map(async (group) =>
              results.set(group, await loadPages<Filter, Row>(spec, { ...group.key, parentIds: [...new Set(group.parentIds)] })),
            ),
          );
          return keys.map((key, i) => results.get(groupOf[i]!)!.get(key.parentId)!);
        },
        { cacheKeyFn: (key) => `${key.parentId}:${argumentsKey(key)}`, batchScheduleFn: afterResolvers },
      ),
  );
}

export const subAccountPages = pageLoader<SubAccountFilter, Account>(subAccountList);
export const phoneNumberPages = pageLoader<{ includeReleased: boolean }, PhoneNumber>(phoneNumberList);
export const apiKeyPages = pageLoader<{ includeRevoked: boolean }, ApiKey>(apiKeyList);
