import { formatPrismaCursor, parsePrismaCursor } from "@pothos/plugin-prisma";
import { runSql } from "../db/sql.js";
import { tableOf, type Model } from "./tables.js";

// Keyset pagination in plain SQL for lists that hang off a parent row (a
// manager's sub-accounts, an account's phone numbers and API keys), with the
// same cursors, page arguments and pageInfo as the Prisma plugin's cursor
// connections, so clients and the cursor rules (schema/argumentRules.ts)
// cannot tell the difference.
//
// One statement per list, however many parents ask for it (the numbers of 250
// sub-accounts): a LATERAL join runs, per parent, an index scan in list order
// that stops after one row more than the page, and the count (only when
// `totalCount` is asked for) is a GROUP BY over the same conditions.

export interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/** A list's order: columns compared as one row value, all in one direction; the last one is unique. */
export interface ListOrder {
  columns: readonly string[];
  direction: "ASC" | "DESC";
}

/** Adds a parameter value and returns its placeholder. */
export type Param = (value: unknown) => string;

/** A list kind: which rows hang off a parent, and which of them a given set of arguments keeps. */
export interface ListSpec<Filter> {
  model: Model;
  parentColumn: string;
  /** SQL conditions on alias `t` for the filter arguments (ANDed), using `param` for every value. */
  conditions: (filter: Filter, param: Param) => string[];
  /** Whether the best plan depends on the filter's values (text search): then planned per request. */
  planPerValues?: (filter: Filter) => boolean;
}

export interface PageRequest<Filter> {
  parentIds: readonly string[];
  filter: Filter;
  order: ListOrder;
  page: PageArgs;
  /** Whether the caller asked for totalCount (a COUNT costs a scan of the whole list). */
  withCount: boolean;
  /** Columns the query needs of each row (read/columns.ts); whole rows when undefined. */
  columns?: readonly string[];
}

export interface Page<Row> {
  rows: Row[];
  /** One row more than the page size was found in the direction of travel. */
  hasMore: boolean;
  totalCount?: number;
}

export const DEFAULT_PAGE_SIZE = 20;

/** The row id an opaque cursor names (the Prisma plugin's `id` cursor format). */
export const cursorOf = (row: { id: string }): string => formatPrismaCursor(row, "id");
const rowIdOf = (cursor: string): string => String(parsePrismaCursor(cursor));

export async function loadPages<Filter, Row extends { id: string }>(
  spec: ListSpec<Filter>,
  request: PageRequest<Filter>,
): Promise<Map<string, Page<Row>>> {
  const { table, columns: allColumns } = tableOf(spec.model);
  const { page, order } = request;
  const columns = request.columns
    ? [...new Set([...request.columns, spec.parentColumn])].map((c) => `t."${c}"`).join(", ")
    : allColumns;
  const backward = page.last != null || page.before != null;
  const size = (backward ? page.last : page.first) ?? DEFAULT_PAGE_SIZE;
  const cursor = backward ? page.before : page.after;
  // Walking backwards reads the list in the opposite order, then flips the page.
  const direction = backward ? (order.direction === "ASC" ? "DESC" : "ASC") : order.direction;
  const parent = `t."${spec.parentColumn}"`;

  const values: unknown[] = [];
  const param: Param = (value) => {
    values.push(value);
    return `$${values.length}`;
  };
  const parentIds = param(request.parentIds);
  const conditions = spec.conditions(request.filter, param);
  const pageConditions = [`${parent} = parents."parentId"`, ...conditions];
  if (cursor != null) {
    // Rows strictly after the cursor row's own sort values, in the direction of travel.
    const tuple = order.columns.map((c) => `t."${c}"`).join(", ");
    const cursorTuple = order.columns.map((c) => `cur."${c}"`).join(", ");
    pageConditions.push(
      `(${tuple}) ${direction === "ASC" ? ">" : "<"} (SELECT ${cursorTuple} FROM ${table} cur WHERE cur."id" = ${param(rowIdOf(cursor))}::uuid)`,
    );
  }
  // The parents, with each one's count when asked for: a parent with an empty list has no count row (0).
  const parents = request.withCount
    ? `(SELECT ${parent} AS "parentId", COUNT(*)::int AS "_total" FROM ${table} t WHERE ${[`${parent} = ANY(${parentIds}::uuid[])`, ...conditions].join(" AND ")} GROUP BY 1)`
    : `(SELECT unnest(${parentIds}::uuid[]) AS "parentId")`;
  // Per parent, an index scan in list order that stops after size + 1 rows.
  const text =
    `SELECT parents."parentId" AS "_parent"${request.withCount ? `, parents."_total"` : ""}, p.* FROM ${parents} parents LEFT JOIN LATERAL (SELECT ${columns} FROM ${table} t` +
    ` WHERE ${pageConditions.join(" AND ")} ORDER BY ${order.columns.map((c) => `t."${c}" ${direction}`).join(", ")} LIMIT ${param(size + 1)}) p ON true`;
  // Rows keep the two bookkeeping columns (_parent, _total); GraphQL never reads them.
  const rows = await runSql<Row & { _parent: string; _total?: number }>(text, values, {
    planPerValues: spec.planPerValues?.(request.filter),
  });

  const pages = new Map<string, Page<Row>>();
  for (const id of request.parentIds) pages.set(id, { rows: [], hasMore: false, totalCount: request.withCount ? 0 : undefined });
  for (const row of rows) {
    const target = pages.get(row._parent)!;
    if (row._total !== undefined) target.totalCount = row._total;
    if (row.id == null) continue; // the parent's list is empty on this page
    if (target.rows.length < size) target.rows.push(row);
    else target.hasMore = true;
  }
  if (backward) for (const p of pages.values()) p.rows.reverse();
  return pages;
}

/** An edge of a page; its cursor is encoded only when read (most trees ask for `nodes`, not edges). */
class Edge<Row extends { id: string }> {
  constructor(readonly node: Row) {}
  get cursor(): string {
    return cursorOf(this.node);
  }
}

/** pageInfo with the Prisma plugin's rules; its cursors, too, are encoded only when read. */
class PageInfo<Row extends { id: string }> {
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  constructor(
    private readonly edges: Edge<Row>[],
    page: PageArgs,
    hasMore: boolean,
  ) {
    const backward = page.last != null || page.before != null;
    this.hasNextPage = page.before != null ? true : backward ? false : hasMore;
    this.hasPreviousPage = page.after != null ? true : backward ? hasMore : false;
  }
  get startCursor(): string | null {
    return this.edges.length ? this.edges[0]!.cursor : null;
  }
  get endCursor(): string | null {
    return this.edges.length ? this.edges[this.edges.length - 1]!.cursor : null;
  }
}

/** The Relay connection of a page. */
export function connectionOf<Row extends { id: string }>(result: Page<Row>, page: PageArgs) {
  const edges = result.rows.map((node) => new Edge(node));
  return { edges, totalCount: result.totalCount, pageInfo: new PageInfo(edges, page, result.hasMore) };
}
