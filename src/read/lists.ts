import { createContextCache } from "@pothos/core";
import type { GraphQLResolveInfo } from "graphql";
import { containsPattern, eqValue, type FilteredTextField, type TextFilter } from "../domain/textFilters.js";
import { type FieldSet, fieldSetOf } from "./fieldSets.js";
import { type ListOrder, type ListSpec, loadPages, type NestedPageSink, type Page, type PageRequest, type Param } from "./pages.js";
import { afterResolvers, requestCache } from "./requestCache.js";

// The lists of the account tree, read in plain SQL (see pages.ts), batched
// per request: one list field asked of many parents (the phone numbers of
// every sub-account of a page) is one statement.
//
// Authorization: every list here hangs off a parent row the caller already
// reached through the row filters (auth/rowFilters.ts); a manager's
// sub-accounts, or an account's numbers and keys, are reachable exactly when
// their parent is, so the lists add no filter of their own.

export interface SubAccountFilter {
  email?: TextFilter | null;
  organizationName?: TextFilter | null;
  status?: readonly string[] | null;
  includeClosed: boolean;
}

/** A text filter's SQL conditions (domain/textFilters.ts says what they mean). */
function textConditions(column: FilteredTextField, filter: TextFilter | null | undefined, param: Param): string[] {
  if (!filter) return [];
  const conditions: string[] = [];
  if (filter.eq != null) conditions.push(`t."${column}" = ${param(eqValue(column, filter.eq))}`);
  // Served by the trigram indexes (migration 0002).
  if (filter.contains != null) conditions.push(`t."${column}" ILIKE ${param(containsPattern(filter.contains))}`);
  return conditions;
}

export const subAccountList: ListSpec<SubAccountFilter> = {
  model: "Account",
  parentColumn: "managerId",
  planPerValues: (filter) => !!(filter.email || filter.organizationName),
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

/** A list field of the schema: its kind of list, and what the field's arguments make of it. */
export interface ListField<Filter, Args> {
  spec: ListSpec<Filter>;
  filter: (args: Args) => Filter;
  /** Newest first when absent. */
  order?: (args: Args) => ListOrder;
}

/**
 * The orders of `Manager.subAccounts`: the schema's `SubAccountSort` enum is
 * made from this table (schema/accounts/Manager.ts), so a value cannot exist
 * in one and not the other. Each order ends in a column unique among a
 * manager's sub-accounts (ids; emails are unique per tree), so keyset
 * cursors are exact.
 */
export const SUB_ACCOUNT_SORTS = {
  CREATED_AT_ASC: { description: "Oldest first.", order: { columns: ["createdAt", "id"], direction: "ASC" } },
  CREATED_AT_DESC: { description: "Newest first (the default).", order: NEWEST_FIRST_ORDER },
  EMAIL_ASC: { description: "By email, A to Z.", order: { columns: ["email"], direction: "ASC" } },
  EMAIL_DESC: { description: "By email, Z to A.", order: { columns: ["email"], direction: "DESC" } },
} as const satisfies Record<string, { description: string; order: ListOrder }>;

export type SubAccountSort = keyof typeof SUB_ACCOUNT_SORTS;
export const DEFAULT_SUB_ACCOUNT_SORT: SubAccountSort = "CREATED_AT_DESC";

export interface SubAccountListArgs {
  filter?: { email?: TextFilter | null; organizationName?: TextFilter | null; status?: readonly string[] | null } | null;
  sort?: SubAccountSort | null;
  includeClosed?: boolean | null;
}

/** `Manager.subAccounts`. */
export const SUB_ACCOUNTS: ListField<SubAccountFilter, SubAccountListArgs> = {
  spec: subAccountList,
  filter: (args) => ({
    email: args.filter?.email,
    organizationName: args.filter?.organizationName,
    status: args.filter?.status,
    includeClosed: args.includeClosed ?? false,
  }),
  order: (args) => SUB_ACCOUNT_SORTS[args.sort ?? DEFAULT_SUB_ACCOUNT_SORT].order,
};

/** `Account.phoneNumbers`. */
export const PHONE_NUMBERS: ListField<{ includeReleased: boolean }, { includeReleased?: boolean | null }> = {
  spec: phoneNumberList,
  filter: (args) => ({ includeReleased: args.includeReleased ?? false }),
};

/** `Account.apiKeys`. */
export const API_KEYS: ListField<{ includeRevoked: boolean }, { includeRevoked?: boolean | null }> = {
  spec: apiKeyList,
  filter: (args) => ({ includeRevoked: args.includeRevoked ?? false }),
};

/**
 * Pages of one list field for every parent that resolves it in a burst,
 * in one statement.
 *
 * A field of the query (its field nodes, read/fieldSets.ts) has the same
 * arguments and selection wherever it resolves in one request (they come
 * from the document and the request's variables), so its request is worked
 * out once per request (`describe`) and the batch is keyed by the field's
 * nodes, not by each parent's arguments. A page that its parent's statement
 * already read (read/prefetch.ts) is answered at once. Otherwise the batch
 * runs once the current burst of resolvers has settled (setImmediate), so
 * sibling parents resolved in different promise chains share it.
 */
export function loadPage<Filter, Row extends { id: string }>(
  spec: ListSpec<Filter>,
  ctx: object,
  info: GraphQLResolveInfo,
  parentId: string,
  describe: () => DescribedList<Filter>,
): Page<Row> | Promise<Page<Row>> {
  const field = fieldSetOf(info);
  const described = describedLists(ctx);
  let list = described.get(field) as DescribedList<Filter> | undefined;
  if (!list) {
    list = describe();
    described.set(field, list);
  }
  const prefetched = prefetchedPages(ctx).pages.get(list.key)?.get(parentId);
  if (prefetched) return prefetched as Page<Row>;

  const pending = pendingBatches(ctx);
  let batch = pending.batches.get(field) as FieldBatch<Row> | undefined;
  if (!batch) {
    const request = list.request;
    const parentIds = new Set<string>();
    let settle!: FieldBatch<Row>["settle"];
    const pages = new Promise<Map<string, Page<Row>>>((resolve, reject) => (settle = { resolve, reject }));
    const keep = keepNestedPages(ctx);
    batch = { parentIds, run: () => loadPages<Filter, Row>(spec, { ...request, parentIds: [...parentIds] }, keep), pages, settle };
    pending.batches.set(field, batch);
    if (pending.batches.size === 1) afterResolvers(() => void dispatch(pending));
  }
  batch.parentIds.add(parentId);
  return batch.pages.then((pages) => pages.get(parentId)!);
}

/** A list field's request in this request, and its signature (read/prefetch.ts). */
export interface DescribedList<Filter> {
  request: Omit<PageRequest<Filter>, "parentIds">;
  key: string;
}

/** Each list field's request, worked out once per request. */
// biome-ignore lint/suspicious/noExplicitAny: lists of different filter and row types share one table or map; each entry only ever sees its own types
const describedLists = createContextCache(() => new Map<FieldSet, DescribedList<any>>());

/**
 * Pages read along with their parents' page, by list signature and parent
 * id. Emptied after a mutation, like every read cache.
 */
const prefetchedPages = requestCache(() => {
  const store = {
    pages: new Map<string, Map<string, Page<unknown>>>(),
    /** Bumped by every clear: pages read before a mutation must not land after it. */
    generation: 0,
    clearAll: () => {
      store.pages.clear();
      store.generation++;
    },
  };
  return store;
});

/** Where a batch (started now) keeps the nested pages its statement reads, unless the request writes meanwhile. */
function keepNestedPages(ctx: object): NestedPageSink {
  const store = prefetchedPages(ctx);
  const { pages } = store;
  const generation = store.generation;
  return (key, parentId, page) => {
    if (store.generation !== generation) return;
    let byParent = pages.get(key);
    if (!byParent) {
      byParent = new Map();
      pages.set(key, byParent);
    }
    byParent.set(parentId, page);
  };
}

interface FieldBatch<Row> {
  parentIds: Set<string>;
  run: () => Promise<Map<string, Page<Row>>>;
  pages: Promise<Map<string, Page<Row>>>;
  settle: { resolve: (pages: Map<string, Page<Row>>) => void; reject: (error: unknown) => void };
}

/**
 * Runs every batch that collected parents in this burst, and settles them
 * together: the lists' own children (numbers of two aliased pages of
 * sub-accounts, say) then resolve in one burst and share their batches too.
 */
// biome-ignore lint/suspicious/noExplicitAny: lists of different filter and row types share one table or map; each entry only ever sees its own types
async function dispatch(pending: { batches: Map<FieldSet, FieldBatch<any>> }): Promise<void> {
  const batches = [...pending.batches.values()];
  pending.batches.clear();
  const results = await Promise.allSettled(batches.map((batch) => batch.run()));
  results.forEach((result, i) => {
    const { settle } = batches[i]!;
    if (result.status === "fulfilled") settle.resolve(result.value);
    else settle.reject(result.reason);
  });
}

/** The batches of this request still collecting parents, by field (not a cache: nothing to forget). */
// biome-ignore lint/suspicious/noExplicitAny: lists of different filter and row types share one table or map; each entry only ever sees its own types
const pendingBatches = createContextCache(() => ({ batches: new Map<FieldSet, FieldBatch<any>>() }));
