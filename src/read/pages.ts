import { formatPrismaCursor, parsePrismaCursor } from "@pothos/plugin-prisma";
import { runSql } from "../db/sql.js";
import { PAGE_SIZE } from "../domain/paging.js";
import { type Model, tableOf } from "./tables.js";

// Keyset pagination in plain SQL for lists that hang off a parent row (a
// manager's sub-accounts, an account's phone numbers and API keys), with the
// same cursors, page arguments and pageInfo as the Prisma plugin's cursor
// connections, so clients and the cursor rules (schema/argumentRules.ts)
// cannot tell the difference.
//
// One statement per list, however many parents ask for it (the numbers of 250
// sub-accounts): per parent, an index scan in list order that stops after one
// row more than the page, and the count (only when `totalCount` is asked for)
// is a GROUP BY over the same conditions. Lists the query asks of each row
// (the numbers of each sub-account of a page) ride along in the same
// statement (read/prefetch.ts).

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
  /** Lists the query asks of each row of the page, read in the same statement (read/prefetch.ts). */
  nested?: readonly NestedList[];
}

/** A list asked of every row of a page (the numbers of each sub-account), with what identifies its pages. */
export interface NestedList {
  /** The list's signature (read/prefetch.ts): a resolver asking for the same pages finds them by it. */
  key: string;
  // biome-ignore lint/suspicious/noExplicitAny: lists of different filter types travel together; each spec only ever sees its own filter
  spec: ListSpec<any>;
  // biome-ignore lint/suspicious/noExplicitAny: lists of different filter types travel together; each spec only ever sees its own filter
  request: Omit<PageRequest<any>, "parentIds">;
}

export interface Page<Row> {
  rows: Row[];
  /** One row more than the page size was found in the direction of travel. */
  hasMore: boolean;
  totalCount?: number;
  /** Rows hold every column (no narrowing): they can stand for whole rows elsewhere (read/accounts.ts). */
  wholeRows: boolean;
}

/** Receives the pages of nested lists: `key` names the list, `parentId` the row it hangs off. */
// biome-ignore lint/suspicious/noExplicitAny: lists of different filter types travel together; each spec only ever sees its own filter
export type NestedPageSink = (key: string, parentId: string, page: Page<any>) => void;

/** The opaque cursor of a row (the Prisma plugin's `id` cursor format). */
export const cursorOf = (row: { id: string }): string => formatPrismaCursor({ id: idOf(row) }, "id");

/**
 * A row's id, which a list reads only when the query needs it
 * (read/columns.ts): a row without one here is a column rule that left it
 * out, and must fail loudly rather than answer a cursor or an id of nothing.
 */
export function idOf(row: { id: string }): string {
  if (row.id == null) throw new Error("a list row was read without its id (read/columns.ts)");
  return row.id;
}
const rowIdOf = (cursor: string): string => String(parsePrismaCursor(cursor));

/**
 * One page per parent, in one statement, with the pages of any nested lists.
 *
 * Each page comes back from Postgres as one JSON array (a row is an array of
 * its columns, nested pages inside it): the driver then parses one value per
 * parent instead of a row per item, which for a tree of 250 sub-accounts
 * with 750 numbers was most of the gateway's time in the driver.
 */
export async function loadPages<Filter, Row extends { id: string }>(
  spec: ListSpec<Filter>,
  request: PageRequest<Filter>,
  nestedSink?: NestedPageSink,
  { matchSetLimit = MATCH_SET_LIMIT }: { matchSetLimit?: number } = {},
): Promise<Map<string, Page<Row>>> {
  const { table } = tableOf(spec.model);
  const values: unknown[] = [];
  const param: Param = (value) => {
    values.push(value);
    return `$${values.length}`;
  };
  const parentIds = param(request.parentIds);
  const planPerValues = spec.planPerValues?.(request.filter) ?? false;
  const parent = `t."${spec.parentColumn}"`;
  const inList = () => [`${parent} = ANY(${parentIds}::uuid[])`, ...spec.conditions(request.filter, param)].join(" AND ");
  const page = pageQuery(spec, request, `parents."parentId"`, param, 0);
  let text: string;
  if (!planPerValues) {
    // The parents, with each one's count when asked for: a parent with an empty list has no count row (0).
    const parents = request.withCount
      ? `(SELECT ${parent} AS "parentId", COUNT(*)::int AS "_total" FROM ${table} t WHERE ${inList()} GROUP BY 1)`
      : `(SELECT unnest(${parentIds}::uuid[]) AS "parentId")`;
    text = `SELECT parents."parentId" AS "_parent"${request.withCount ? `, parents."_total"` : ""}, ${page.sql} AS "_page" FROM ${parents} parents`;
  } else {
    // A text filter (`contains`) finds its matches through a trigram index
    // over all accounts. Counting them and taking the page in two scans let
    // Postgres plan the page on its own: for a manager of 100,000
    // sub-accounts it intersected the text's matches with every one of that
    // manager's rows (docs/benchmarks.md). So the matches are found once, up
    // to a bound, and both the count and the page come from them; past the
    // bound (a filter that matches most of a large list) it falls back to
    // the two scans, which stop early on an index in list order.
    const limit = param(matchSetLimit);
    const kept = [...new Set([...page.read, spec.parentColumn])].map((c) => `t."${c}"`).join(", ");
    const fromMatches = pageQuery(spec, request, `parents."parentId"`, param, 0, `"matches"`);
    const parents = request.withCount
      ? `(SELECT ${parent} AS "parentId", COUNT(*)::int AS "_total" FROM "matches" t WHERE (SELECT "few" FROM "bounded") GROUP BY 1` +
        ` UNION ALL SELECT ${parent}, COUNT(*)::int FROM ${table} t WHERE NOT (SELECT "few" FROM "bounded") AND ${inList()} GROUP BY 1)`
      : `(SELECT unnest(${parentIds}::uuid[]) AS "parentId")`;
    text =
      `WITH "matches" AS MATERIALIZED (SELECT ${kept} FROM ${table} t WHERE ${inList()} LIMIT ${limit}::int + 1), ` +
      `"bounded" AS (SELECT COUNT(*) <= ${limit}::int AS "few" FROM "matches") ` +
      `SELECT parents."parentId" AS "_parent"${request.withCount ? `, parents."_total"` : ""}, ` +
      `CASE WHEN (SELECT "few" FROM "bounded") THEN ${fromMatches.sql} ELSE ${page.sql} END AS "_page" FROM ${parents} parents`;
  }
  const rows = await runSql<{ _parent: string; _total?: number; _page: unknown[][] | null }>(text, values, { planPerValues });

  const pages = new Map<string, Page<Row>>();
  for (const id of request.parentIds) pages.set(id, { rows: [], hasMore: false, totalCount: request.withCount ? 0 : undefined, wholeRows: !request.columns });
  for (const row of rows) {
    pages.set(row._parent, page.decode(row._page, row._parent, request.withCount ? (row._total ?? 0) : undefined, nestedSink) as Page<Row>);
  }
  return pages;
}

/**
 * Matches of a text filter kept to count and page them in one pass
 * (loadPages); a filter matching more rows of its parents than this is read
 * in two index scans instead.
 */
export const MATCH_SET_LIMIT = 5000;

/** Postgres's limit on the arguments of one function call (FUNC_MAX_ARGS), json_build_array's cells included. */
const MAX_FUNCTION_ARGS = 100;

/** A page's SQL (one JSON array of row arrays, or null when empty) and how to read it back. */
interface PageQuery {
  sql: string;
  /** The columns its rows are read with (output and order columns, not the parent's). */
  read: readonly string[];
  /** `parentId`: the row the page hangs off; `totalCount`: the list's count when it was asked for (undefined otherwise). */
  decode: (json: unknown[][] | null, parentId: string, totalCount: number | undefined, nestedSink?: NestedPageSink) => Page<unknown>;
}

/**
 * The page of `spec` under the parent `parentSql` (a column of the enclosing
 * query), as a scalar subquery: an index scan in list order that stops after
 * size + 1 rows, aggregated in that order, each row with its nested pages.
 * `depth` keeps the aliases of nested levels apart (the filters' own
 * conditions use alias `t`, which each level's FROM shadows).
 */
function pageQuery(
  // biome-ignore lint/suspicious/noExplicitAny: lists of different filter types travel together; each spec only ever sees its own filter
  spec: ListSpec<any>,
  // biome-ignore lint/suspicious/noExplicitAny: lists of different filter types travel together; each spec only ever sees its own filter
  request: Omit<PageRequest<any>, "parentIds">,
  parentSql: string,
  param: Param,
  depth: number,
  /** A relation holding the list's rows with its filter already applied (loadPages' text matches); the table otherwise. */
  filtered?: string,
): PageQuery {
  const { table, fields } = tableOf(spec.model);
  const { page, order } = request;
  const backward = page.last != null || page.before != null;
  const size = (backward ? page.last : page.first) ?? PAGE_SIZE.default;
  const cursor = backward ? page.before : page.after;
  // Walking backwards reads the list in the opposite order, then flips the page.
  const direction = backward ? (order.direction === "ASC" ? "DESC" : "ASC") : order.direction;
  const rowAlias = `p${depth}`;

  // The parent column is the same for every row of the page and known to the
  // caller: it is filled in when decoding instead of travelling in the JSON
  // (for the numbers of a tree, a third of the bytes Postgres builds and
  // Node parses). Rows with nested lists are those lists' parents: they
  // always need their id.
  const needed = request.nested?.length ? [...(request.columns ?? []), "id"] : request.columns;
  const output = (request.columns ? [...new Set(needed)] : fields.map((f) => f.name)).filter((c) => c !== spec.parentColumn);
  const read = [...new Set([...output, ...order.columns])];
  const conditions = [`t."${spec.parentColumn}" = ${parentSql}`, ...(filtered ? [] : spec.conditions(request.filter, param))];
  if (cursor != null) {
    // Rows strictly after the cursor row's own sort values, in the direction of travel.
    const tuple = order.columns.map((c) => `t."${c}"`).join(", ");
    const cursorTuple = order.columns.map((c) => `cur."${c}"`).join(", ");
    conditions.push(`(${tuple}) ${direction === "ASC" ? ">" : "<"} (SELECT ${cursorTuple} FROM ${table} cur WHERE cur."id" = ${param(rowIdOf(cursor))}::uuid)`);
  }
  const typeOf = new Map(fields.map((f) => [f.name, f.type]));
  // BIGINT travels as text (a JSON number would lose precision past 2^53).
  const cells = output.map((c) => (typeOf.get(c) === "BigInt" ? `${rowAlias}."${c}"::text` : `${rowAlias}."${c}"`));
  const nested: { list: NestedList; inner: PageQuery }[] = [];
  for (const list of request.nested ?? []) {
    // json_build_array takes at most MAX_FUNCTION_ARGS cells: a list that
    // does not fit is not read along (checked before it adds parameters),
    // and its resolver reads it in a statement of its own.
    if (cells.length + (list.request.withCount ? 2 : 1) > MAX_FUNCTION_ARGS) continue;
    const inner = pageQuery(list.spec, list.request, `${rowAlias}."id"`, param, depth + 1);
    cells.push(inner.sql);
    if (list.request.withCount) {
      const { table: nestedTable } = tableOf(list.spec.model);
      const where = [`t."${list.spec.parentColumn}" = ${rowAlias}."id"`, ...list.spec.conditions(list.request.filter, param)];
      cells.push(`(SELECT COUNT(*)::int FROM ${nestedTable} t WHERE ${where.join(" AND ")})`);
    }
    nested.push({ list, inner });
  }
  // json_agg keeps the order of its subquery: the rows of a LIMIT over an
  // ordered scan, nothing in between to reorder them (PostGraphile builds its
  // lists the same way). An ORDER BY inside the aggregate would sort each
  // parent's page again, a sort per parent.
  const sql =
    `(SELECT json_agg(json_build_array(${cells.join(", ")})) FROM ` +
    `(SELECT ${read.map((c) => `t."${c}"`).join(", ")} FROM ${filtered ?? table} t WHERE ${conditions.join(" AND ")}` +
    ` ORDER BY ${order.columns.map((c) => `t."${c}" ${direction}`).join(", ")} LIMIT ${param(size + 1)}) ${rowAlias})`;

  const rowOf = rowBuilder(output, typeOf, spec.parentColumn);
  const decode: PageQuery["decode"] = (json, parentId, totalCount, nestedSink) => {
    const items = json ?? [];
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < items.length && i < size; i++) {
      const cells = items[i]!;
      const row = rowOf(cells, parentId);
      let at = output.length;
      for (const { list, inner } of nested) {
        const json = cells[at++] as unknown[][] | null;
        const count = list.request.withCount ? ((cells[at++] as number | null) ?? 0) : undefined;
        nestedSink?.(list.key, row.id as string, inner.decode(json, row.id as string, count, nestedSink));
      }
      rows.push(row);
    }
    if (backward) rows.reverse();
    return { rows, hasMore: items.length > size, totalCount, wholeRows: !request.columns };
  };
  return { sql, read, decode };
}

type RowOf = (cells: unknown[], parentId: string) => Record<string, unknown>;

/**
 * Turns a row's JSON cells back into a row object: timestamps into Dates,
 * BIGINT text into bigint, the parent column from the parent's id. Compiled
 * once per page query into one object literal, so every row of a list has
 * the same shape from birth (a loop assigning computed keys builds each row
 * through several hidden classes, and a tree decodes a thousand rows).
 * Column names come from the Prisma datamodel (read/tables.ts), never from
 * a request, and are quoted with JSON.stringify.
 */
function rowBuilder(output: readonly string[], typeOf: ReadonlyMap<string, string>, parentColumn: string): RowOf {
  const entries = output.map((column, c) => {
    const type = typeOf.get(column);
    const cell = `cells[${c}]`;
    const value =
      type === "DateTime" ? `(${cell} == null ? ${cell} : new Date(${cell}))` : type === "BigInt" ? `(${cell} == null ? ${cell} : BigInt(${cell}))` : cell;
    return `${JSON.stringify(column)}: ${value}`;
  });
  entries.push(`${JSON.stringify(parentColumn)}: parentId`);
  return new Function("cells", "parentId", `return { ${entries.join(", ")} };`) as RowOf;
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
    private readonly rows: readonly Row[],
    page: PageArgs,
    hasMore: boolean,
  ) {
    const backward = page.last != null || page.before != null;
    this.hasNextPage = page.before != null ? true : backward ? false : hasMore;
    this.hasPreviousPage = page.after != null ? true : backward ? hasMore : false;
  }
  get startCursor(): string | null {
    return this.rows.length ? cursorOf(this.rows[0]!) : null;
  }
  get endCursor(): string | null {
    return this.rows.length ? cursorOf(this.rows[this.rows.length - 1]!) : null;
  }
}

/**
 * The Relay connection of a page. `nodes` are the page's rows themselves
 * (the schema's `nodes` fields read them directly, schema/connections.ts);
 * edges and pageInfo are built only when a query reads them, since a tree
 * asks `nodes` of every one of its 250 pages of numbers.
 */
export class Connection<Row extends { id: string }> {
  readonly nodes: readonly Row[];
  readonly totalCount: number | undefined;
  readonly #hasMore: boolean;
  readonly #page: PageArgs;
  #edges: Edge<Row>[] | undefined;
  #pageInfo: PageInfo<Row> | undefined;
  constructor(result: Page<Row>, page: PageArgs) {
    this.nodes = result.rows;
    this.totalCount = result.totalCount;
    this.#hasMore = result.hasMore;
    this.#page = page;
  }
  get edges(): Edge<Row>[] {
    this.#edges ??= this.nodes.map((node) => new Edge(node));
    return this.#edges;
  }
  get pageInfo(): PageInfo<Row> {
    this.#pageInfo ??= new PageInfo(this.nodes, this.#page, this.#hasMore);
    return this.#pageInfo;
  }
}
