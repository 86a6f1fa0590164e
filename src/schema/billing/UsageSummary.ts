import { sumMicros } from "../../domain/money.js";
import type { SeriesRow } from "../../read/usageReport.js";
import type { UsageTotals } from "../../services/billing.js";
import { MAX_BUCKETS, PRODUCT_ORDER, periodBuckets, periodProblems, type ReportPeriod, reportPeriod } from "../../services/usageReports.js";
import { BILLING_DATA, builder } from "../builder.js";
import { MoneyRef, money } from "../money.js";
import { ProductEnum } from "./enums.js";
import { usageSeriesLoader, usageTotalsLoader } from "./loaders.js";

export const UsageLineRef = builder.objectRef<UsageTotals>("UsageLine").implement({
  description: "The usage of one product over a period.",
  fields: (t) => ({
    product: t.field({ type: ProductEnum, description: "The product.", resolve: (l) => l.product }),
    quantity: t.int({ description: "Units used.", resolve: (l) => l.quantity }),
    records: t.int({ description: "How many usage records.", resolve: (l) => l.records }),
    cost: t.field({
      type: MoneyRef,
      nullable: true,
      description: "What the usage cost. Managers and operators only: a sub-account gets null with FORBIDDEN.",
      ...BILLING_DATA,
      resolve: (l) => money(l.costMicros),
    }),
  }),
});

export const UsageGroupingEnum = builder.enumType("UsageGrouping", {
  description: `How a period is cut into buckets: UTC calendar days (at most ${MAX_BUCKETS.DAY} per request) or months (at most ${MAX_BUCKETS.MONTH}). The first and last buckets are clipped to the period.`,
  values: {
    DAY: { description: "UTC days, from midnight to midnight." },
    MONTH: { description: "UTC calendar months, from the 1st at midnight to the next 1st." },
  } as const,
});

interface UsageSummaryValue {
  accountId: string;
  period: ReportPeriod;
}

interface UsageBucketValue {
  start: Date;
  end: Date;
  lines: UsageTotals[];
}

const totalCostOf = (lines: readonly UsageTotals[]) => money(sumMicros(lines.map((l) => l.costMicros)));

const UsageBucketRef = builder.objectRef<UsageBucketValue>("UsageBucket").implement({
  description: "An account's usage in one bucket of a period (a UTC day or month, or the whole period without `groupBy`), per product.",
  fields: (t) => ({
    start: t.field({
      type: "DateTime",
      description: "Start of the bucket (inclusive): a UTC midnight or 1st of a month, or the period's start.",
      resolve: (b) => b.start,
    }),
    end: t.field({
      type: "DateTime",
      description: "End of the bucket (exclusive): the next UTC midnight or 1st of a month, or the period's end.",
      resolve: (b) => b.end,
    }),
    lines: t.field({ type: [UsageLineRef], description: "One line per product used in the bucket; empty when nothing was used.", resolve: (b) => b.lines }),
    totalCost: t.field({
      type: MoneyRef,
      nullable: true,
      description: "What the bucket's usage cost. Managers and operators only: a sub-account gets null with FORBIDDEN.",
      ...BILLING_DATA,
      resolve: (b) => totalCostOf(b.lines),
    }),
  }),
});

/** Rows of one account's series as lines (per product, in the enum's order). */
function linesOf(rows: readonly SeriesRow[]): UsageTotals[] {
  const byProduct = new Map<string, UsageTotals>();
  for (const row of rows) {
    const line = byProduct.get(row.product) ?? { product: row.product, quantity: 0, records: 0, costMicros: 0n };
    line.quantity += Number(row.quantity);
    line.records += row.records;
    line.costMicros += row.cost;
    byProduct.set(row.product, line);
  }
  return PRODUCT_ORDER.flatMap((p) => byProduct.get(p) ?? []);
}

/** The period's lines: summed from the series when there is one (the same statement), else the period's totals. */
async function summaryLines(ctx: object, s: UsageSummaryValue): Promise<UsageTotals[]> {
  if (s.period.groupBy) return linesOf(await usageSeriesLoader(ctx).load(s));
  return usageTotalsLoader(ctx).load({ accountId: s.accountId, from: s.period.from, to: s.period.to });
}

const UsageSummaryRef = builder.objectRef<UsageSummaryValue>("UsageSummary").implement({
  description: "An account's usage over a period, per product, and cut into buckets (UTC days or months) with `groupBy`.",
  fields: (t) => ({
    from: t.field({ type: "DateTime", description: "Start of the period (inclusive).", resolve: (s) => s.period.from }),
    to: t.field({ type: "DateTime", description: "End of the period (exclusive).", resolve: (s) => s.period.to }),
    lines: t.field({ type: [UsageLineRef], description: "One line per product used in the period.", resolve: (s, _args, ctx) => summaryLines(ctx, s) }),
    totalCost: t.field({
      type: MoneyRef,
      nullable: true,
      description: "What all the period's usage cost. Managers and operators only: a sub-account gets null with FORBIDDEN.",
      ...BILLING_DATA,
      resolve: async (s, _args, ctx) => totalCostOf(await summaryLines(ctx, s)),
    }),
    groupBy: t.field({
      type: UsageGroupingEnum,
      nullable: true,
      description: "How `buckets` cuts the period (the `groupBy` asked for); null: one bucket, the whole period.",
      resolve: (s) => s.period.groupBy,
    }),
    buckets: t.field({
      type: [UsageBucketRef],
      description:
        "The period cut into buckets, in time order, every bucket present (empty ones with no lines), so a chart needs no filling in. With `groupBy`, UTC days or months clipped to the period; without, one bucket: the whole period. A period with `from` equal to `to` has none.",
      resolve: async (s, _args, ctx) => {
        const buckets = periodBuckets(s.period);
        if (!s.period.groupBy) {
          const lines = buckets.length ? await summaryLines(ctx, s) : [];
          return buckets.map((b) => ({ ...b, lines }));
        }
        const byStart = new Map<number, SeriesRow[]>();
        for (const row of await usageSeriesLoader(ctx).load(s)) {
          // The database's buckets are unclipped: here the first one starts at the period's start.
          const at = Math.max(row.bucket.getTime(), s.period.from.getTime());
          const list = byStart.get(at);
          if (list) list.push(row);
          else byStart.set(at, [row]);
        }
        return buckets.map((b) => ({ ...b, lines: linesOf(byStart.get(b.start.getTime()) ?? []) }));
      },
    }),
  }),
});

builder.prismaInterfaceField("Account", "usageSummary", (t) =>
  t.field({
    permission: "ACCOUNTS_READ",
    type: UsageSummaryRef,
    description:
      "The account's own usage from `from` (inclusive) to `to` (exclusive), per product, and with `groupBy` per UTC day or month (`buckets`). Batched: a whole tree's summaries cost one statement per period (and grouping).",
    args: {
      from: t.arg({ type: "DateTime", required: true, description: "Start of the period (inclusive)." }),
      to: t.arg({ type: "DateTime", required: true, description: "End of the period (exclusive)." }),
      groupBy: t.arg({
        type: UsageGroupingEnum,
        required: false,
        description: `Cut the period into UTC days (at most ${MAX_BUCKETS.DAY}) or months (at most ${MAX_BUCKETS.MONTH}) for \`buckets\`; more is BAD_USER_INPUT.`,
      }),
    },
    extensions: { validateArgs: (args: { from: Date; to: Date; groupBy?: "DAY" | "MONTH" | null }) => periodProblems(reportPeriod(args)) },
    // Keyed by the account's id, which every account row keeps.
    reads: [],
    resolve: (account, { from, to, groupBy }) => ({ accountId: account.id, period: { from, to, groupBy: groupBy ?? null } }),
  }),
);
