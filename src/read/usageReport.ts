import { parsePrismaCursor } from "@pothos/plugin-prisma";
import { runSql } from "../db/sql.js";
import { PAGE_SIZE } from "../domain/paging.js";
import type { Product } from "../generated/prisma/client.js";
import {
  clippedBucket,
  type ReportLine,
  type ReportPeriod,
  type ReportScope,
  type ReportSort,
  type ReportTotal,
  type UsageGrouping,
} from "../services/usageReports.js";
import type { PageArgs, Param } from "./pages.js";

// The usage reports' statements (services/usageReports.ts says what they
// mean). Usage is aggregated from "usage_records" by account, product and
// bucket (a UTC day or month: date_trunc in UTC, whatever the session's time
// zone) through its (accountId, occurredAt) index; money is summed as
// BIGINT micros and travels as text, never as a float or a JSON number.

/** Adds parameters to `values` and returns their placeholders. */
function params(): { values: unknown[]; param: Param } {
  const values: unknown[] = [];
  return {
    values,
    param: (value) => {
      values.push(value);
      return `$${values.length}`;
    },
  };
}

const UNIT: Record<UsageGrouping, string> = { DAY: "day", MONTH: "month" };

/** The bucket a usage row's `occurredAt` falls in: its UTC day or month, or the period's start (one bucket). */
function bucketSql(occurredAt: string, grouping: UsageGrouping | null, from: string): string {
  return grouping ? `date_trunc('${UNIT[grouping]}', ${occurredAt}, 'UTC')` : `${from}::timestamptz`;
}

/** The end of the bucket starting at `bucket` (unclipped): the next UTC day or month, or the period's end. */
function bucketEndSql(bucket: string, grouping: UsageGrouping | null, to: string): string {
  return grouping ? `((${bucket} AT TIME ZONE 'UTC') + interval '1 ${UNIT[grouping]}') AT TIME ZONE 'UTC'` : `${to}::timestamptz`;
}

// ------------------------------------------------------------ series

export interface SeriesRow {
  accountId: string;
  product: Product;
  /** The bucket's start as the database truncates it (unclipped). */
  bucket: Date;
  quantity: bigint;
  records: number;
  cost: bigint;
}

/** Usage per account, product and bucket of many accounts over one period, in one statement. */
export async function loadUsageSeries(accountIds: readonly string[], period: ReportPeriod): Promise<SeriesRow[]> {
  const { values, param } = params();
  const ids = param(accountIds);
  const from = param(period.from);
  const to = param(period.to);
  return runSql<SeriesRow>(
    `SELECT u."accountId", u."product", ${bucketSql(`u."occurredAt"`, period.groupBy, from)} AS "bucket",
       SUM(u."quantity")::bigint AS "quantity", COUNT(*)::int AS "records", SUM(u."costMicros")::bigint AS "cost"
     FROM "usage_records" u
     WHERE u."accountId" = ANY(${ids}::uuid[]) AND u."occurredAt" >= ${from} AND u."occurredAt" < ${to}
     GROUP BY 1, 2, 3`,
    values,
  );
}

// ------------------------------------------------------------ report pages

type Direction = "ASC" | "DESC";
/** Each order compares lines as a tuple; the last columns (bucket, account, product) make it total. */
const SORT_KEYS: Record<ReportSort, readonly (readonly [string, Direction])[]> = {
  TIME_ASC: [
    ["bucket", "ASC"],
    ["accountId", "ASC"],
    ["product", "ASC"],
  ],
  TIME_DESC: [
    ["bucket", "DESC"],
    ["accountId", "ASC"],
    ["product", "ASC"],
  ],
  COST_DESC: [
    ["cost", "DESC"],
    ["bucket", "ASC"],
    ["accountId", "ASC"],
    ["product", "ASC"],
  ],
  COST_ASC: [
    ["cost", "ASC"],
    ["bucket", "ASC"],
    ["accountId", "ASC"],
    ["product", "ASC"],
  ],
};

/**
 * Lines of `l` strictly after the cursor's line in the order `keys` (mixed
 * directions: no row comparison). The cursor's values are InitPlans, read
 * once per statement, not per line.
 */
function afterSql(keys: readonly (readonly [string, Direction])[]): string {
  const cursor = (k: string) => `(SELECT c."${k}" FROM "cursor" c)`;
  return keys
    .map((_, i) => {
      const equal = keys.slice(0, i).map(([k]) => `l."${k}" = ${cursor(k)}`);
      const [k, direction] = keys[i]!;
      return `(${[...equal, `l."${k}" ${direction === "ASC" ? ">" : "<"} ${cursor(k)}`].join(" AND ")})`;
    })
    .join(" OR ");
}

export interface ReportPageRequest {
  period: ReportPeriod;
  sort: ReportSort;
  page: PageArgs;
  withCount: boolean;
  withTotals: boolean;
}

export interface ReportPage {
  rows: ReportLine[];
  /** One line more than the page size was found in the direction of travel. */
  hasMore: boolean;
  totalCount?: number;
  totals?: ReportTotal[];
  /** Whether the page's cursor names a line of this report (false without a cursor). */
  cursorFound: boolean;
}

/** The accounts (alias `a`) whose usage a scope's report holds: a manager and its sub-accounts, or the account itself. */
const SCOPE_SQL: Record<ReportScope, (owner: string) => string> = {
  TREE: (owner) => `(a."id" = ${owner} OR a."managerId" = ${owner})`,
  ACCOUNT: (owner) => `a."id" = ${owner}`,
};

/**
 * One page of the report of each owner (a manager's tree, or an account's
 * own usage), all in one statement. Per owner, the period's lines are
 * aggregated once (a CTE inside a LATERAL subquery, so each owner's work is
 * its own), account by account: each account's usage is an index range scan
 * of its own records, grouped in memory into at most products x buckets
 * groups, so the work follows the tree's usage in the period (never a scan
 * of the whole table, whatever the planner estimates) and no grouping grows
 * with the tree. The page (a top-N sort stopping one line after the page),
 * the count and the totals are all taken from those lines.
 */
export async function loadReportPages(scope: ReportScope, owners: readonly string[], request: ReportPageRequest): Promise<Map<string, ReportPage>> {
  const { period, page } = request;
  const { values, param } = params();
  const ownerIds = param(owners);
  const from = param(period.from);
  const to = param(period.to);
  const backward = page.last != null || page.before != null;
  const size = (backward ? page.last : page.first) ?? PAGE_SIZE.default;
  const cursor = backward ? page.before : page.after;
  // Walking backwards reads the lines in the opposite order, then flips the page.
  const keys = SORT_KEYS[request.sort].map(([k, d]) => [k, backward ? (d === "ASC" ? "DESC" : "ASC") : d] as const);
  const order = keys.map(([k, d]) => `l."${k}" ${d}`).join(", ");
  const bucket = (occurredAt: string) => bucketSql(occurredAt, period.groupBy, from);
  // The cursor names a usage record: its line is the one of its account, product and bucket.
  const cursorParam = param(cursor == null ? null : String(parsePrismaCursor(cursor)));
  const text = `SELECT o."owner", r."page", r."totals", r."cursorFound"
    FROM unnest(${ownerIds}::uuid[]) AS o("owner")
    CROSS JOIN LATERAL (
      WITH "lines" AS MATERIALIZED (
        SELECT a."id" AS "accountId", g."product", g."bucket", g."quantity", g."records", g."cost"
        FROM "accounts" a
        CROSS JOIN LATERAL (
          SELECT u."product", ${bucket(`u."occurredAt"`)} AS "bucket",
            SUM(u."quantity")::bigint AS "quantity", COUNT(*)::bigint AS "records", SUM(u."costMicros")::bigint AS "cost"
          FROM "usage_records" u
          WHERE u."accountId" = a."id" AND u."occurredAt" >= ${from} AND u."occurredAt" < ${to}
          GROUP BY 1, 2
        ) g
        WHERE ${SCOPE_SQL[scope](`o."owner"`)}
      ),
      "cursor" AS (
        SELECT l.* FROM "usage_records" x
        JOIN "lines" l ON l."accountId" = x."accountId" AND l."product" = x."product" AND l."bucket" = ${bucket(`x."occurredAt"`)}
        WHERE x."id" = ${cursorParam}::uuid AND x."occurredAt" >= ${from} AND x."occurredAt" < ${to}
      ),
      "page" AS (
        SELECT l.* FROM "lines" l
        WHERE ${cursorParam}::uuid IS NULL OR ${afterSql(keys)}
        ORDER BY ${order} LIMIT ${param(size + 1)}
      )
      SELECT
        (SELECT json_agg(json_build_array(p."accountId", p."product", p."bucket", p."quantity"::text, p."records", p."cost"::text,
           -- One record of the line, for its cursor: an index range scan of the account's bucket.
           (SELECT x."id" FROM "usage_records" x
            WHERE x."accountId" = p."accountId" AND x."product" = p."product"
              AND x."occurredAt" >= greatest(p."bucket", ${from}) AND x."occurredAt" < least(${bucketEndSql(`p."bucket"`, period.groupBy, to)}, ${to})
            LIMIT 1)))
         FROM "page" p) AS "page",
        -- The totals and the count in one more pass over the lines: per product, its lines and sums.
        CASE WHEN ${param(request.withTotals || request.withCount)}::boolean THEN (
          SELECT COALESCE(json_agg(json_build_array(t."product", t."lines", t."quantity"::text, t."records", t."cost"::text) ORDER BY t."product"), '[]')
          FROM (SELECT l."product", COUNT(*) AS "lines", SUM(l."quantity")::bigint AS "quantity", SUM(l."records")::bigint AS "records", SUM(l."cost")::bigint AS "cost"
                FROM "lines" l GROUP BY 1) t
        ) END AS "totals",
        EXISTS (SELECT 1 FROM "cursor") AS "cursorFound"
    ) r`;
  const rows = await runSql<{ owner: string; page: unknown[][] | null; totals: unknown[][] | null; cursorFound: boolean }>(text, values);
  const pages = new Map<string, ReportPage>();
  for (const row of rows) {
    const items = row.page ?? [];
    const lines: ReportLine[] = [];
    for (let i = 0; i < items.length && i < size; i++) {
      const [accountId, product, bucketStart, quantity, records, cost, recordId] = items[i] as [string, Product, string, string, number, string, string];
      const { start, end } = clippedBucket(new Date(bucketStart), period);
      lines.push({ id: recordId, accountId, product, start, end, quantity: Number(quantity), records, costMicros: BigInt(cost) });
    }
    if (backward) lines.reverse();
    const totals = totalsOf(row.totals);
    pages.set(row.owner, {
      rows: lines,
      hasMore: items.length > size,
      totalCount: request.withCount ? totals.reduce((sum, t) => sum + t.lines, 0) : undefined,
      totals: request.withTotals ? totals.map(({ lines: _lines, ...total }) => total) : undefined,
      cursorFound: row.cursorFound,
    });
  }
  return pages;
}

/** Per product: its lines, and its totals. */
const totalsOf = (json: unknown[][] | null): (ReportTotal & { lines: number })[] =>
  (json ?? []).map((cells) => {
    const [product, lines, quantity, records, cost] = cells as [Product, number, string, number, string];
    return { product, lines, quantity: Number(quantity), records: Number(records), costMicros: BigInt(cost) };
  });

// ------------------------------------------------------------ CSV export

export interface ExportAccount {
  id: string;
  kind: "MANAGER" | "SUB_ACCOUNT";
  email: string;
  organizationName: string | null;
  createdAt: Date;
}

export interface ExportLine {
  account: ExportAccount;
  product: Product;
  bucket: Date;
  quantity: bigint;
  records: number;
  cost: bigint;
}

export interface ExportBatch {
  lines: ExportLine[];
  /** The last account of the batch (where the next one starts), or null when there was none. */
  last: Pick<ExportAccount, "id" | "createdAt"> | null;
  accounts: number;
}

/** Which accounts a batch reads: one account by id, or the next `limit` sub-accounts of a manager after `after` (creation order). */
export type ExportAccounts = { id: string } | { managerId: string; after: Pick<ExportAccount, "id" | "createdAt"> | null; limit: number };

/**
 * The lines of a batch of accounts, in one statement: the accounts in
 * creation order (the manager's index), each account's lines aggregated
 * from its own index range, by bucket and product. An account without usage
 * in the period yields no line but still moves the batch on.
 */
export async function loadExportBatch(accounts: ExportAccounts, period: ReportPeriod): Promise<ExportBatch> {
  const { values, param } = params();
  let chunk: string;
  if ("id" in accounts) {
    chunk = `SELECT a."id", a."kind", a."email", a."organizationName", a."createdAt" FROM "accounts" a WHERE a."id" = ${param(accounts.id)}::uuid`;
  } else {
    const after = accounts.after ? ` AND (a."createdAt", a."id") > (${param(accounts.after.createdAt)}::timestamptz, ${param(accounts.after.id)}::uuid)` : "";
    chunk = `SELECT a."id", a."kind", a."email", a."organizationName", a."createdAt" FROM "accounts" a
      WHERE a."managerId" = ${param(accounts.managerId)}::uuid${after} ORDER BY a."createdAt", a."id" LIMIT ${param(accounts.limit)}`;
  }
  const from = param(period.from);
  const to = param(period.to);
  const rows = await runSql<
    ExportAccount & { product: Product | null; bucket: Date | null; quantity: bigint | null; records: number | null; cost: bigint | null }
  >(
    `WITH "chunk" AS MATERIALIZED (${chunk})
     SELECT a.*, l."product", l."bucket", l."quantity", l."records", l."cost"
     FROM "chunk" a LEFT JOIN LATERAL (
       SELECT u."product", ${bucketSql(`u."occurredAt"`, period.groupBy, from)} AS "bucket",
         SUM(u."quantity")::bigint AS "quantity", COUNT(*)::int AS "records", SUM(u."costMicros")::bigint AS "cost"
       FROM "usage_records" u
       WHERE u."accountId" = a."id" AND u."occurredAt" >= ${from} AND u."occurredAt" < ${to}
       GROUP BY 1, 2
     ) l ON true
     ORDER BY a."createdAt", a."id", l."bucket", l."product"`,
    values,
  );
  const lines: ExportLine[] = [];
  let last: ExportAccount | undefined;
  let accountCount = 0;
  for (const row of rows) {
    let account: ExportAccount = last!;
    if (last?.id !== row.id) {
      account = { id: row.id, kind: row.kind, email: row.email, organizationName: row.organizationName, createdAt: row.createdAt };
      last = account;
      accountCount++;
    }
    if (row.product == null) continue;
    lines.push({ account, product: row.product, bucket: row.bucket!, quantity: row.quantity!, records: row.records!, cost: row.cost! });
  }
  return { lines, last: last ? { id: last.id, createdAt: last.createdAt } : null, accounts: accountCount };
}
