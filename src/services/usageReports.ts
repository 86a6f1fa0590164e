// Usage reports (issue #18): an account's usage cut into UTC days or months,
// and a manager's whole tree as lines of account x product x bucket, for the
// GraphQL report (schema/billing/UsageReport.ts) and its CSV export
// (http/usageCsv.ts). The statements are in read/usageReport.ts.
//
// Choices where DOMAIN.md is silent:
// - Buckets are UTC calendar days or months, clipped to the period: a period
//   from 10:00 on the 3rd has a first bucket from 10:00 to midnight, so the
//   buckets add up to the period's totals exactly.
// - A series (UsageSummary.buckets) lists every bucket of the period, empty
//   ones too; a report lists lines only where there was usage (a line per
//   account, product and bucket with at least one usage record).
// - A manager's tree report holds its own usage and every sub-account's,
//   closed ones included (until they are purged: a purge deletes the usage
//   records, while the ledger entries on the manager's balance stay).
// - A period is cut into at most MAX_BUCKETS buckets; without a grouping it
//   is one bucket of any length.
import { reachableAccounts, within } from "../auth/rowFilters.js";
import { holds, type Viewer } from "../auth/viewer.js";
import { prisma } from "../db/client.js";
import type { Product } from "../generated/prisma/client.js";
import { Product as PRODUCTS } from "../generated/prisma/enums.js";
import type { AccountRef } from "./ids.js";

export type UsageGrouping = "DAY" | "MONTH";

/** The most buckets one request may cut a period into (BAD_USER_INPUT beyond). */
export const MAX_BUCKETS: Record<UsageGrouping, number> = { DAY: 400, MONTH: 36 };

/** Products in the order lines list them (the enum's order, as Postgres sorts it). */
export const PRODUCT_ORDER: readonly Product[] = Object.values(PRODUCTS);

/** Start of the UTC day or month holding `t`. */
export function bucketStartOf(t: Date, grouping: UsageGrouping): Date {
  return grouping === "DAY"
    ? new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()))
    : new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1));
}

/** Start of the UTC day or month after the one starting at `start`. */
export function nextBucketStart(start: Date, grouping: UsageGrouping): Date {
  return grouping === "DAY"
    ? new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + 1))
    : new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
}

export interface Bucket {
  start: Date;
  end: Date;
}

/** How many buckets [from, to) is cut into: UTC days or months touched, 1 without a grouping, 0 for an empty period. */
export function bucketCount(from: Date, to: Date, grouping: UsageGrouping | null): number {
  if (from.getTime() >= to.getTime()) return 0;
  if (!grouping) return 1;
  const first = bucketStartOf(from, grouping);
  const last = bucketStartOf(new Date(to.getTime() - 1), grouping);
  if (grouping === "DAY") return Math.round((last.getTime() - first.getTime()) / 86_400_000) + 1;
  return (last.getUTCFullYear() - first.getUTCFullYear()) * 12 + (last.getUTCMonth() - first.getUTCMonth()) + 1;
}

/** The bucket holding `start` (a bucket start as the database truncates it), clipped to [from, to). */
export function clippedBucket(start: Date, period: ReportPeriod): Bucket {
  if (!period.groupBy) return { start: period.from, end: period.to };
  const end = nextBucketStart(start, period.groupBy);
  return {
    start: new Date(Math.max(start.getTime(), period.from.getTime())),
    end: new Date(Math.min(end.getTime(), period.to.getTime())),
  };
}

/** Every bucket of [from, to), empty ones included, clipped to the period. */
export function periodBuckets(period: ReportPeriod): Bucket[] {
  const { from, to, groupBy } = period;
  if (from.getTime() >= to.getTime()) return [];
  if (!groupBy) return [{ start: from, end: to }];
  const buckets: Bucket[] = [];
  for (let start = bucketStartOf(from, groupBy); start < to; start = nextBucketStart(start, groupBy)) {
    buckets.push(clippedBucket(start, period));
  }
  return buckets;
}

export interface ReportPeriod {
  from: Date;
  to: Date;
  groupBy: UsageGrouping | null;
}

export interface PeriodArgs {
  from?: Date | string | null;
  to?: Date | string | null;
  groupBy?: UsageGrouping | null;
}

/**
 * The period a report covers: `from` defaults to the start of the current
 * UTC month, `to` to the start of the next one (so no arguments at all is
 * this month up to now).
 */
export function reportPeriod(args: PeriodArgs, now = new Date()): ReportPeriod {
  const thisMonth = bucketStartOf(now, "MONTH");
  return {
    from: args.from ? new Date(args.from) : thisMonth,
    to: args.to ? new Date(args.to) : nextBucketStart(thisMonth, "MONTH"),
    groupBy: args.groupBy ?? null,
  };
}

/** What is wrong with a period (empty when nothing): `from` after `to`, or more buckets than MAX_BUCKETS. */
export function periodProblems(period: ReportPeriod): string[] {
  const { from, to, groupBy } = period;
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return ["`from` and `to` must be date-times"];
  if (from.getTime() > to.getTime()) return ["`from` must not be after `to`"];
  if (groupBy && bucketCount(from, to, groupBy) > MAX_BUCKETS[groupBy]) {
    return [
      `\`groupBy: ${groupBy}\` cuts a period into at most ${MAX_BUCKETS[groupBy]} ${groupBy === "DAY" ? "days" : "months"}; this one has ${bucketCount(from, to, groupBy)}`,
    ];
  }
  return [];
}

// ------------------------------------------------------------ reports

/** The orders of a report's lines: the schema's UsageReportSort enum is made from this table. */
export const REPORT_SORTS = {
  TIME_ASC: { description: "Oldest bucket first; within a bucket by account, then product (the default)." },
  TIME_DESC: { description: "Newest bucket first; within a bucket by account, then product." },
  COST_DESC: { description: "Most spent first (ties: oldest bucket, account, product). Managers and operators only." },
  COST_ASC: { description: "Least spent first (ties: oldest bucket, account, product). Managers and operators only." },
} as const;
export type ReportSort = keyof typeof REPORT_SORTS;
export const DEFAULT_REPORT_SORT: ReportSort = "TIME_ASC";

/** Sorting by cost orders lines by what they cost, which is pricing: not for sub-accounts. */
export const sortRevealsCost = (sort: ReportSort): boolean => sort === "COST_DESC" || sort === "COST_ASC";

/** Whose usage a report holds: a manager's whole tree, or one account's own. */
export type ReportScope = "TREE" | "ACCOUNT";

/** A report's line: one account's usage of one product in one bucket. */
export interface ReportLine {
  /** One usage record of the line: what its cursor names (read/pages.ts cursors name a row id). */
  id: string;
  accountId: string;
  product: Product;
  start: Date;
  end: Date;
  quantity: number;
  records: number;
  costMicros: bigint;
}

/** The period's totals per product. */
export interface ReportTotal {
  product: Product;
  quantity: number;
  records: number;
  costMicros: bigint;
}

// ------------------------------------------------------------ CSV export

/** What a caller exports: whose usage, and whether costs are in it. */
export interface ExportSubject {
  scope: ReportScope;
  accountId: string;
  withCost: boolean;
}

/**
 * Whose usage a CSV export holds: the account named (a manager: its whole
 * tree; a sub-account: its own), which must be reachable, or by default the
 * caller's own (a manager's tree, a sub-account itself); the operator names
 * one ("required" otherwise). Costs for managers and operators only.
 * Undefined for an account the caller cannot reach or that does not exist,
 * alike.
 */
export async function exportSubject(viewer: Viewer, named: AccountRef | null): Promise<ExportSubject | "required" | undefined> {
  // Costs for managers and operators, and for a restricted key only with BILLING_READ (as Manager.usageReport's cost).
  const withCost = viewer.role !== "SUB_ACCOUNT" && holds(viewer, "BILLING_READ");
  const scopeOf = (kind: AccountRef["kind"]): ReportScope => (kind === "MANAGER" ? "TREE" : "ACCOUNT");
  if (named == null) {
    if (viewer.role === "OPERATOR") return "required";
    return { scope: scopeOf(viewer.role === "MANAGER" ? "MANAGER" : "SUB_ACCOUNT"), accountId: viewer.accountId, withCost };
  }
  const found = await prisma.account.findFirst({ where: within({ id: named.id, kind: named.kind }, reachableAccounts(viewer)), select: { id: true } });
  return found ? { scope: scopeOf(named.kind), accountId: found.id, withCost } : undefined;
}

/** Lines per CSV batch at most: each batch is one statement, and no more than this is in memory at once. */
export const CSV_BATCH_LINES = 5000;

/** Accounts per CSV batch: as many as fit CSV_BATCH_LINES if each used every product in every bucket. */
export function accountsPerBatch(period: ReportPeriod): number {
  const worstPerAccount = PRODUCT_ORDER.length * Math.max(1, bucketCount(period.from, period.to, period.groupBy));
  return Math.max(1, Math.floor(CSV_BATCH_LINES / worstPerAccount));
}
