import { encodeGlobalID } from "@pothos/plugin-relay";
import DataLoader from "dataloader";
import { type GraphQLCompositeType, GraphQLError, type GraphQLResolveInfo, getNamedType } from "graphql";
import { reachableUsageRecords, within } from "../../auth/rowFilters.js";
import { holds } from "../../auth/viewer.js";
import type { Context } from "../../context.js";
import { prisma } from "../../db/client.js";
import { sumMicros } from "../../domain/money.js";
import type { Account, Prisma } from "../../generated/prisma/client.js";
import { accountRows } from "../../read/accounts.js";
import { Connection, type PageArgs } from "../../read/pages.js";
import { type PageArgsInput, pageArgsOf } from "../../read/prefetch.js";
import { afterResolvers, requestCache } from "../../read/requestCache.js";
import { selectedFields } from "../../read/selections.js";
import { loadReportPages, type ReportPage, type ReportPageRequest } from "../../read/usageReport.js";
import {
  DEFAULT_REPORT_SORT,
  MAX_BUCKETS,
  type PeriodArgs,
  periodProblems,
  REPORT_SORTS,
  type ReportLine,
  type ReportPeriod,
  type ReportScope,
  type ReportSort,
  type ReportTotal,
  reportPeriod,
  sortRevealsCost,
} from "../../services/usageReports.js";
import { AccountRef } from "../accounts/Account.js";
import { ManagerRef } from "../accounts/Manager.js";
import { SubAccountRef } from "../accounts/SubAccount.js";
import { BILLING_DATA, builder } from "../builder.js";
import { MoneyRef, money } from "../money.js";
import { registerNodeLoader } from "../node.js";
import { missingPermissionError } from "../permissionsPlugin.js";
import { ProductEnum } from "./enums.js";
import { UsageGroupingEnum, UsageLineRef } from "./UsageSummary.js";

// Usage reports a reseller can bill from (services/usageReports.ts has the
// rules): `Manager.usageReport`, the whole tree's lines of account x product
// x bucket, and `SubAccount.usageReport`, one account's own; the same lines
// as CSV at GET /reports/usage.csv (http/usageCsv.ts).

export const UsageReportSortEnum = builder.enumType("UsageReportSort", {
  description: "Orders of a usage report's lines.",
  values: Object.fromEntries(Object.entries(REPORT_SORTS).map(([name, { description }]) => [name, { description }])) as {
    [K in ReportSort]: { description: string };
  },
});

const UsageReportLineRef = builder.objectRef<ReportLine>("UsageReportLine").implement({
  description: "One account's usage of one product in one bucket of a report's period: only where there was usage.",
  fields: (t) => ({
    id: t.id({
      description:
        "Identifies the line: the same account, product and bucket (start and end) give the same id in every report. Not a node id (`node` does not resolve it).",
      resolve: (l) => encodeGlobalID("UsageReportLine", `${l.accountId}:${l.product}:${l.start.toISOString()}:${l.end.toISOString()}`),
    }),
    account: t.field({
      type: AccountRef,
      description: "The account whose usage this is: the manager itself or one of its sub-accounts.",
      // Read once per request for the whole page (read/accounts.ts); the line's account is in the report's reach.
      resolve: async (l, _args, ctx) => (await accountRows(ctx).load(l.accountId)) as Account,
    }),
    product: t.field({ type: ProductEnum, description: "The product.", resolve: (l) => l.product }),
    start: t.field({ type: "DateTime", description: "Start of the bucket (inclusive), clipped to the report's period.", resolve: (l) => l.start }),
    end: t.field({ type: "DateTime", description: "End of the bucket (exclusive), clipped to the report's period.", resolve: (l) => l.end }),
    quantity: t.int({ description: "Units used.", resolve: (l) => l.quantity }),
    records: t.int({ description: "How many usage records.", resolve: (l) => l.records }),
    cost: t.field({
      type: MoneyRef,
      nullable: true,
      description: "What the line's usage cost. Managers and operators only: a sub-account gets null with FORBIDDEN.",
      ...BILLING_DATA,
      resolve: (l) => money(l.costMicros),
    }),
  }),
});

const UsageReportTotalsRef = builder.objectRef<ReportTotal[]>("UsageReportTotals").implement({
  description: "The whole report's usage (every line of the period, not only the page's), per product.",
  fields: (t) => ({
    lines: t.field({ type: [UsageLineRef], description: "One line per product used in the period.", resolve: (totals) => totals }),
    totalCost: t.field({
      type: MoneyRef,
      nullable: true,
      description: "What all the period's usage cost. Managers and operators only: a sub-account gets null with FORBIDDEN.",
      ...BILLING_DATA,
      resolve: (totals) => money(sumMicros(totals.map((l) => l.costMicros))),
    }),
  }),
});

/** A page of a report: read/pages.ts' Connection (nodes as they are, edges and pageInfo built when read), with the report's totals. */
class UsageReportPage extends Connection<ReportLine> {
  readonly totals: ReportTotal[] | undefined;
  constructor(
    page: ReportPage,
    args: PageArgs,
    readonly period: ReportPeriod,
  ) {
    super({ rows: page.rows, hasMore: page.hasMore, totalCount: page.totalCount, wholeRows: true }, args);
    this.totals = page.totals;
  }
}

const UsageReportEdge = builder.edgeObject({
  type: UsageReportLineRef,
  name: "UsageReportEdge",
  description: "A line of a usage report, with its cursor.",
});

// The connection's name makes the argument rules (argumentRules.ts) judge
// its cursors as rows of "UsageReport" (the registration below): a cursor
// names one usage record of its line, reachable by the usage records' row
// filter. No type is named "UsageReport", so `node` never resolves one.
export const UsageReportConnection = builder.connectionObject(
  {
    type: UsageReportLineRef,
    name: "UsageReportConnection",
    description: "A page of a usage report's lines, with the whole period's count and totals.",
    fields: (t) => ({
      totalCount: t.int({
        description: "How many lines the whole report holds, across all pages.",
        resolve: (c) => (c as unknown as UsageReportPage).totalCount ?? 0,
      }),
      totals: t.field({
        type: UsageReportTotalsRef,
        description: "The whole period's usage per product (and its cost, for managers and operators), across all pages.",
        resolve: (c) => (c as unknown as UsageReportPage).totals ?? [],
      }),
      from: t.field({
        type: "DateTime",
        description: "Start of the report's period (inclusive).",
        resolve: (c) => (c as unknown as UsageReportPage).period.from,
      }),
      to: t.field({ type: "DateTime", description: "End of the report's period (exclusive).", resolve: (c) => (c as unknown as UsageReportPage).period.to }),
      groupBy: t.field({
        type: UsageGroupingEnum,
        nullable: true,
        description: "How the period is cut into buckets; null: one bucket, the whole period.",
        resolve: (c) => (c as unknown as UsageReportPage).period.groupBy,
      }),
    }),
  },
  UsageReportEdge,
);

registerNodeLoader("UsageReport", "ACCOUNTS_READ", (ids, viewer, query) =>
  prisma.usageRecord.findMany({ ...query, where: within<Prisma.UsageRecordWhereInput>({ id: { in: ids } }, reachableUsageRecords(viewer)) }),
);

// ------------------------------------------------------------ loading

interface ReportKey {
  scope: ReportScope;
  owner: string;
  request: ReportPageRequest;
}

const signatureOf = (k: ReportKey) => `${k.scope}:${JSON.stringify(k.request)}`;

/** Reports, batched: every parent asking the same report (a page of sub-accounts) is one statement. */
const reportLoader = requestCache(
  () =>
    new DataLoader<ReportKey, ReportPage, string>(
      async (keys) => {
        const batches = new Map<string, { scope: ReportScope; request: ReportPageRequest; owners: string[] }>();
        for (const k of keys) {
          const signature = signatureOf(k);
          if (!batches.has(signature)) batches.set(signature, { scope: k.scope, request: k.request, owners: [] });
          batches.get(signature)!.owners.push(k.owner);
        }
        const pages = new Map<string, ReportPage>();
        await Promise.all(
          [...batches].map(async ([signature, b]) => {
            for (const [owner, page] of await loadReportPages(b.scope, b.owners, b.request)) pages.set(`${owner}/${signature}`, page);
          }),
        );
        return keys.map((k) => pages.get(`${k.owner}/${signatureOf(k)}`)!);
      },
      { cacheKeyFn: (k) => `${k.owner}/${signatureOf(k)}`, batchScheduleFn: afterResolvers },
    ),
);

/** Whether the connection field selects `name` (through fragments, as the executor does). */
function selects(info: GraphQLResolveInfo, name: string): boolean {
  const type = getNamedType(info.returnType) as GraphQLCompositeType;
  return selectedFields(
    info,
    info.fieldNodes.map((n) => n.selectionSet),
    type,
  ).some(({ field }) => field.name.value === name);
}

type ReportArgs = PeriodArgs & PageArgsInput & { sort?: ReportSort | null };

function resolveReport(scope: ReportScope) {
  return async (parent: Account, args: ReportArgs, ctx: Context, info: GraphQLResolveInfo) => {
    const sort = args.sort ?? DEFAULT_REPORT_SORT;
    if (sortRevealsCost(sort)) {
      if (ctx.viewer.role === "SUB_ACCOUNT") {
        throw new GraphQLError(`\`sort: ${sort}\` orders lines by what they cost, which is for managers and operators`, { extensions: { code: "FORBIDDEN" } });
      }
      // Ordering by cost tells costs: a restricted key needs BILLING_READ for it, as for the cost itself.
      if (!holds(ctx.viewer, "BILLING_READ")) throw missingPermissionError("BILLING_READ");
    }
    const page = pageArgsOf(args);
    const period = reportPeriod(args);
    const request: ReportPageRequest = { period, sort, page, withCount: selects(info, "totalCount"), withTotals: selects(info, "totals") };
    const result = await reportLoader(ctx).load({ scope, owner: parent.id, request });
    // Reachable (argumentRules.ts checked) but not a line of this report: another period, account or tree.
    const cursorArg = page.after != null ? "after" : page.before != null ? "before" : undefined;
    if (cursorArg && !result.cursorFound) {
      throw new GraphQLError(`${String(info.path.key)}: \`${cursorArg}\` is not a cursor of this list`, { extensions: { code: "BAD_USER_INPUT" } });
    }
    return new UsageReportPage(result, page, period);
  };
}

const PERIOD_RULES = `\`from\` defaults to the start of the current UTC month, \`to\` to the start of the next one; \`groupBy\` cuts the period into UTC days (at most ${MAX_BUCKETS.DAY}) or months (at most ${MAX_BUCKETS.MONTH}), without it the period is one bucket.`;

builder.prismaObjectField(ManagerRef, "usageReport", (t) =>
  t.connection(
    {
      permission: "ACCOUNTS_READ",
      type: UsageReportLineRef,
      description: `The whole tree's usage (the manager's own and every sub-account's, closed ones too) over a period: one line per account, product and bucket where there was usage, with the period's count and totals. ${PERIOD_RULES} One statement however many sub-accounts the tree has; costs for managers and operators. Also as CSV: GET /reports/usage.csv.`,
      args: {
        from: t.arg({ type: "DateTime", required: false, description: "Start of the period (inclusive); default: the start of the current UTC month." }),
        to: t.arg({ type: "DateTime", required: false, description: "End of the period (exclusive); default: the start of the next UTC month." }),
        groupBy: t.arg({ type: UsageGroupingEnum, required: false, description: "Buckets of UTC days or months; default: one bucket, the whole period." }),
        sort: t.arg({ type: UsageReportSortEnum, defaultValue: DEFAULT_REPORT_SORT, description: "Order of the lines." }),
      },
      extensions: { validateArgs: (args: PeriodArgs) => periodProblems(reportPeriod(args)) },
      // Keyed by the manager's id, which every account row keeps.
      reads: [],
      resolve: (manager, args, ctx, info) => resolveReport("TREE")(manager, args, ctx, info) as never,
    },
    UsageReportConnection,
  ),
);

builder.prismaObjectField(SubAccountRef, "usageReport", (t) =>
  t.connection(
    {
      permission: "ACCOUNTS_READ",
      type: UsageReportLineRef,
      description: `The sub-account's own usage over a period, as \`Manager.usageReport\` lists it: one line per product and bucket where there was usage, with the period's count and totals. ${PERIOD_RULES} Costs, and sorting by cost, for managers and operators only.`,
      args: {
        from: t.arg({ type: "DateTime", required: false, description: "Start of the period (inclusive); default: the start of the current UTC month." }),
        to: t.arg({ type: "DateTime", required: false, description: "End of the period (exclusive); default: the start of the next UTC month." }),
        groupBy: t.arg({ type: UsageGroupingEnum, required: false, description: "Buckets of UTC days or months; default: one bucket, the whole period." }),
        sort: t.arg({
          type: UsageReportSortEnum,
          defaultValue: DEFAULT_REPORT_SORT,
          description: "Order of the lines; COST_DESC and COST_ASC are for managers and operators (FORBIDDEN for the sub-account itself).",
        }),
      },
      extensions: { validateArgs: (args: PeriodArgs) => periodProblems(reportPeriod(args)) },
      // Keyed by the sub-account's id, which every account row keeps.
      reads: [],
      resolve: (sub, args, ctx, info) => resolveReport("ACCOUNT")(sub, args, ctx, info) as never,
    },
    UsageReportConnection,
  ),
);
