// Usage reports (issue #18): usageSummary cut into UTC days and months with
// every bucket present, and the tree report (Manager.usageReport,
// SubAccount.usageReport): its lines, totals, orders and pages, who sees
// what (costs for managers and operators only), exact money against the
// ledger, UTC boundaries, and a constant number of statements per tree.
import { formatPrismaCursor } from "@pothos/plugin-prisma";
import { beforeAll, describe, expect, it } from "vitest";
import { settleKeyUsage } from "../../src/auth/authenticate.js";
import { prisma } from "../../src/db/client.js";
import { bucketCount, MAX_BUCKETS, periodBuckets, periodProblems, reportPeriod } from "../../src/services/usageReports.js";
import { countStatements, errorCodes, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, fundCharges, type Product, setAccountPricing, type TestAccount, unique } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId, fieldOf, recordUsage, resultOfType, withheld } from "./operations.js";

const DAY_MS = 86_400_000;
const utc = (y: number, m: number, d = 1, h = 0, min = 0, s = 0, ms = 0) => new Date(Date.UTC(y, m, d, h, min, s, ms));
const iso = (d: Date) => d.toISOString();

// The period month is last month (recordUsage takes occurredAt within the last year, never in the future).
const now = new Date();
const N = utc(now.getUTCFullYear(), now.getUTCMonth()); // start of this month: the period's end
const M = utc(N.getUTCFullYear(), N.getUTCMonth() - 1); // start of last month: the period's start
const D = new Date(M.getTime() + 10 * DAY_MS); // a midnight inside it
const MONTH_DAYS = Math.round((N.getTime() - M.getTime()) / DAY_MS);

const RATES = { SMS_OUTBOUND: "0.0079", SMS_INBOUND: "0.0005", MMS_OUTBOUND: "0.0213", VOICE_OUTBOUND_MINUTE: "0.014" } as const;

describe("periods and buckets (services/usageReports.ts)", () => {
  it("counts UTC days and months touched, clipping the first and last bucket to the period", () => {
    expect(bucketCount(utc(2025, 0, 1), utc(2025, 0, 2), "DAY")).toBe(1);
    expect(bucketCount(utc(2025, 0, 1, 23), utc(2025, 0, 2, 1), "DAY")).toBe(2);
    expect(bucketCount(utc(2025, 0, 1), utc(2025, 0, 1), "DAY")).toBe(0);
    expect(bucketCount(utc(2024, 1, 1), utc(2024, 2, 1), "DAY")).toBe(29); // a leap February
    expect(bucketCount(utc(2025, 0, 31), utc(2025, 1, 1, 0, 0, 0, 1), "MONTH")).toBe(2);
    expect(bucketCount(utc(2024, 0, 1), utc(2027, 0, 1), "MONTH")).toBe(36);
    expect(periodBuckets({ from: utc(2025, 0, 30, 10), to: utc(2025, 1, 1, 6), groupBy: "DAY" })).toEqual([
      { start: utc(2025, 0, 30, 10), end: utc(2025, 0, 31) },
      { start: utc(2025, 0, 31), end: utc(2025, 1, 1) },
      { start: utc(2025, 1, 1), end: utc(2025, 1, 1, 6) },
    ]);
    expect(periodBuckets({ from: utc(2024, 11, 15), to: utc(2025, 2, 1), groupBy: "MONTH" }).map((b) => iso(b.start))).toEqual([
      iso(utc(2024, 11, 15)),
      iso(utc(2025, 0, 1)),
      iso(utc(2025, 1, 1)),
    ]);
    expect(periodBuckets({ from: utc(2025, 0, 1), to: utc(2025, 0, 9), groupBy: null })).toEqual([{ start: utc(2025, 0, 1), end: utc(2025, 0, 9) }]);
  });

  it(`refuses more than ${MAX_BUCKETS.DAY} days or ${MAX_BUCKETS.MONTH} months, and a period ending before it starts`, () => {
    expect(periodProblems({ from: utc(2025, 0, 1), to: new Date(utc(2025, 0, 1).getTime() + 400 * DAY_MS), groupBy: "DAY" })).toEqual([]);
    expect(periodProblems({ from: utc(2025, 0, 1), to: new Date(utc(2025, 0, 1).getTime() + 400 * DAY_MS + 1), groupBy: "DAY" })).toHaveLength(1);
    expect(periodProblems({ from: utc(2024, 0, 1), to: utc(2027, 0, 1), groupBy: "MONTH" })).toEqual([]);
    expect(periodProblems({ from: utc(2024, 0, 1), to: utc(2027, 0, 2), groupBy: "MONTH" })).toHaveLength(1);
    expect(periodProblems({ from: utc(2000, 0, 1), to: utc(2030, 0, 1), groupBy: null })).toEqual([]);
    expect(periodProblems({ from: utc(2025, 0, 2), to: utc(2025, 0, 1), groupBy: null })).toEqual(["`from` must not be after `to`"]);
  });

  it("defaults to the current UTC month", () => {
    expect(reportPeriod({}, utc(2025, 1, 14, 12))).toEqual({ from: utc(2025, 1, 1), to: utc(2025, 2, 1), groupBy: null });
    expect(reportPeriod({ groupBy: "DAY" }, utc(2025, 11, 31, 23, 59))).toEqual({ from: utc(2025, 11, 1), to: utc(2026, 0, 1), groupBy: "DAY" });
  });
});

// ------------------------------------------------------------ the world

let manager: TestAccount, sub: TestAccount, sibling: TestAccount, otherManager: TestAccount, otherSub: TestAccount;

async function charge(token: string, account: TestAccount, product: Product, quantity: number, occurredAt: Date) {
  resultOfType(await recordUsage(token, { accountId: account.id, product, quantity, occurredAt: iso(occurredAt) }), "RecordUsageSuccess");
}

beforeAll(async () => {
  manager = await createManager();
  otherManager = await createManager();
  await setAccountPricing(manager.id, RATES);
  await setAccountPricing(otherManager.id, RATES);
  sub = await createSubAccount(manager, { organizationName: "Sub" });
  sibling = await createSubAccount(manager, { organizationName: "Sibling", rollupBilling: true });
  otherSub = await createSubAccount(otherManager);
  for (const a of [manager, sub, sibling, otherManager, otherSub]) await fundCharges(a.id);
  // Around a midnight, around the period's end, and around its start.
  await charge(sub.token, sub, "SMS_OUTBOUND", 3, new Date(D.getTime() - 1));
  await charge(sub.token, sub, "SMS_OUTBOUND", 5, D);
  await charge(manager.token, sub, "VOICE_OUTBOUND_MINUTE", 2, new Date(N.getTime() - 1));
  await charge(sub.token, sub, "SMS_OUTBOUND", 7, N);
  await charge(sibling.token, sibling, "MMS_OUTBOUND", 4, M);
  await charge(sibling.token, sibling, "SMS_OUTBOUND", 1, new Date(M.getTime() - 1));
  await charge(manager.token, manager, "SMS_INBOUND", 10, new Date(D.getTime() + 5 * 3600_000));
  await charge(otherManager.token, otherSub, "SMS_OUTBOUND", 9, D);
  await charge(otherManager.token, otherManager, "SMS_OUTBOUND", 6, D);
});

// ------------------------------------------------------------ series

const SERIES = graphql(`query($from: DateTime!, $to: DateTime!, $groupBy: UsageGrouping) { viewer { account {
  usageSummary(from: $from, to: $to, groupBy: $groupBy) { from to groupBy lines { product quantity records cost { amount } } totalCost { amount }
    buckets { start end lines { product quantity records cost { amount } } totalCost { amount } } } } } }`);
const SERIES_QUANTITIES = graphql(`query($from: DateTime!, $to: DateTime!, $groupBy: UsageGrouping) { viewer { account {
  usageSummary(from: $from, to: $to, groupBy: $groupBy) { lines { product quantity } buckets { start end lines { product quantity records } } } } } }`);

describe("usageSummary with groupBy", () => {
  it("lists every UTC day of the period, empty ones too, with usage on the right side of midnight", async () => {
    const { viewer } = await gqlData(SERIES, { token: manager.token, variables: { from: iso(M), to: iso(N), groupBy: "DAY" } });
    const s = viewer.account!.usageSummary;
    expect(s.groupBy).toBe("DAY");
    expect(s.buckets).toHaveLength(MONTH_DAYS);
    expect(s.buckets[0]!.start).toBe(iso(M));
    expect(s.buckets.at(-1)!.end).toBe(iso(N));
    const used = s.buckets.filter((b) => b.lines.length);
    // The manager's own usage only (a summary is the account's own).
    expect(used).toEqual([
      {
        start: iso(D),
        end: iso(new Date(D.getTime() + DAY_MS)),
        lines: [{ product: "SMS_INBOUND", quantity: 10, records: 1, cost: { amount: "0.005000" } }],
        totalCost: { amount: "0.005000" },
      },
    ]);
    expect(s.buckets.filter((b) => !b.lines.length).every((b) => b.totalCost?.amount === "0.000000")).toBe(true);
    expect(s.lines).toEqual([{ product: "SMS_INBOUND", quantity: 10, records: 1, cost: { amount: "0.005000" } }]);
  });

  it("puts 23:59:59.999 and 00:00:00.000 UTC in different days, and the period's last millisecond in its last month", async () => {
    const { viewer } = await gqlData(SERIES_QUANTITIES, { token: sub.token, variables: { from: iso(M), to: iso(N), groupBy: "DAY" } });
    const used = viewer.account!.usageSummary.buckets.filter((b) => b.lines.length);
    expect(used).toEqual([
      { start: iso(new Date(D.getTime() - DAY_MS)), end: iso(D), lines: [{ product: "SMS_OUTBOUND", quantity: 3, records: 1 }] },
      { start: iso(D), end: iso(new Date(D.getTime() + DAY_MS)), lines: [{ product: "SMS_OUTBOUND", quantity: 5, records: 1 }] },
      { start: iso(new Date(N.getTime() - DAY_MS)), end: iso(N), lines: [{ product: "VOICE_OUTBOUND_MINUTE", quantity: 2, records: 1 }] },
    ]);
    const months = await gqlData(SERIES_QUANTITIES, {
      token: sub.token,
      variables: { from: iso(new Date(M.getTime() + 12 * 3600_000)), to: iso(new Date(N.getTime() + 3600_000)), groupBy: "MONTH" },
    });
    expect(months.viewer.account!.usageSummary.buckets).toEqual([
      {
        // Clipped to the period: from noon on the 1st.
        start: iso(new Date(M.getTime() + 12 * 3600_000)),
        end: iso(N),
        lines: [
          { product: "SMS_OUTBOUND", quantity: 8, records: 2 },
          { product: "VOICE_OUTBOUND_MINUTE", quantity: 2, records: 1 },
        ],
      },
      { start: iso(N), end: iso(new Date(N.getTime() + 3600_000)), lines: [{ product: "SMS_OUTBOUND", quantity: 7, records: 1 }] },
    ]);
    expect(months.viewer.account!.usageSummary.lines).toEqual([
      { product: "SMS_OUTBOUND", quantity: 15 },
      { product: "VOICE_OUTBOUND_MINUTE", quantity: 2 },
    ]);
  });

  it("without groupBy is one bucket, the whole period; an empty period has empty buckets and zero totals", async () => {
    const whole = await gqlData(SERIES, { token: manager.token, variables: { from: iso(M), to: iso(N) } });
    expect(whole.viewer.account!.usageSummary.buckets).toEqual([
      { start: iso(M), end: iso(N), lines: whole.viewer.account!.usageSummary.lines, totalCost: { amount: "0.005000" } },
    ]);
    const quiet = utc(N.getUTCFullYear(), N.getUTCMonth() - 5);
    const empty = await gqlData(SERIES, {
      token: manager.token,
      variables: { from: iso(quiet), to: iso(new Date(quiet.getTime() + 7 * DAY_MS)), groupBy: "DAY" },
    });
    const s = empty.viewer.account!.usageSummary;
    expect(s.buckets).toHaveLength(7);
    expect(s.buckets.every((b) => b.lines.length === 0 && b.totalCost?.amount === "0.000000")).toBe(true);
    expect(s.lines).toEqual([]);
    expect(s.totalCost).toEqual({ amount: "0.000000" });
  });

  it("gives a sub-account its quantities and no cost: the cost fields are not in its schema (FORBIDDEN)", async () => {
    const res = await gql(SERIES, { token: sub.token, variables: { from: iso(M), to: iso(N), groupBy: "DAY" } });
    expect(withheld(res)).toBe(true);
    expect(errorCodes(res)).toContain("FORBIDDEN");
    expect(JSON.stringify(res.body)).not.toMatch(/amount/);
  });

  const BOUND_FORMS = [
    [
      "a literal",
      `query { viewer { account { usageSummary(from: "2025-01-01T00:00:00Z", to: "2026-02-06T00:00:00Z", groupBy: DAY) { lines { product } } } } }`,
      {},
    ],
    [
      "a variable",
      `query($g: UsageGrouping) { viewer { account { usageSummary(from: "2025-01-01T00:00:00Z", to: "2026-02-06T00:00:00Z", groupBy: $g) { lines { product } } } } }`,
      { g: "DAY" },
    ],
    [
      "a variable's default",
      `query($to: DateTime = "2026-02-06T00:00:00Z") { viewer { account { usageSummary(from: "2025-01-01T00:00:00Z", to: $to, groupBy: DAY) { lines { product } } } } }`,
      {},
    ],
    [
      "months, as a variable",
      `query($from: DateTime!) { viewer { account { usageSummary(from: $from, to: "2028-01-01T00:00:00Z", groupBy: MONTH) { lines { product } } } } }`,
      { from: "2024-12-01T00:00:00Z" },
    ],
    [
      "the report's bound",
      `query { viewer { account { ... on Manager { usageReport(from: "2020-01-01T00:00:00Z", to: "2023-02-01T00:00:00Z", groupBy: MONTH) { totalCount } } } } }`,
      {},
    ],
  ] as const;
  it.each(BOUND_FORMS)("refuses more than 400 days or 36 months as %s: BAD_USER_INPUT, no SQL beyond authentication", async (_form, query, variables) => {
    await settleKeyUsage();
    const baseline = await countStatements(() => gql(`{ viewer { nosuchfield } }`, { token: manager.token }));
    const { result, statements } = await countStatements(() => gql(query, { token: manager.token, variables }));
    expect(errorCodes(result), JSON.stringify(result.body)).toEqual(["BAD_USER_INPUT"]);
    expect(result.body.errors![0]!.message).toMatch(/at most (400 days|36 months)/);
    expect(result.body.data ?? null).toBeNull();
    expect(statements).toBe(baseline.statements);
  });
});

// ------------------------------------------------------------ the tree report

const MANAGER_REPORT =
  graphql(`query($from: DateTime, $to: DateTime, $groupBy: UsageGrouping, $sort: UsageReportSort, $first: Int, $after: String, $last: Int, $before: String) {
  viewer { account { ... on Manager { usageReport(from: $from, to: $to, groupBy: $groupBy, sort: $sort, first: $first, after: $after, last: $last, before: $before) {
    totalCount from to groupBy
    totals { lines { product quantity records cost { amount } } totalCost { amount } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id account { __typename id } product start end quantity records cost { amount } } } } } } } }`);
const OPERATOR_REPORT = graphql(`query($id: ID!, $from: DateTime, $to: DateTime, $groupBy: UsageGrouping) {
  node(id: $id) { ... on Manager { usageReport(from: $from, to: $to, groupBy: $groupBy, first: 250) {
    totalCount totals { totalCost { amount } } nodes { account { id } product start quantity cost { amount } } } } } }`);
const SUB_REPORT = graphql(`query($from: DateTime, $to: DateTime, $groupBy: UsageGrouping, $first: Int, $after: String) {
  viewer { account { ... on SubAccount { usageReport(from: $from, to: $to, groupBy: $groupBy, first: $first, after: $after) {
    totalCount totals { lines { product quantity records } }
    edges { cursor node { account { id } product start end quantity records } } } } } } }`);
const SUB_REPORT_COST = graphql(`query($from: DateTime, $to: DateTime) { viewer { account { ... on SubAccount {
  usageReport(from: $from, to: $to, groupBy: DAY) { nodes { product quantity cost { amount } } } } } } }`);

type ManagerReport = NonNullable<Extract<NonNullable<Awaited<ReturnType<typeof managerReport>>["viewer"]["account"]>, { usageReport: unknown }>["usageReport"]>;
const managerReport = (token: string, variables: Record<string, unknown>) => gqlData(MANAGER_REPORT, { token, variables });
async function reportOf(token: string, variables: Record<string, unknown>): Promise<ManagerReport> {
  return fieldOf((await managerReport(token, variables)).viewer.account, "usageReport");
}
/** A line as one terse string: account, product, bucket start, quantity, cost. */
const terse = (n: { account: { id: string }; product: string; start: string; quantity: number; cost?: { amount: string } | null }) =>
  `${n.account.id === manager.id ? "manager" : n.account.id === sub.id ? "sub" : n.account.id === sibling.id ? "sibling" : n.account.id}|${n.product}|${n.start}|${n.quantity}${n.cost ? `|${n.cost.amount}` : ""}`;

const period = () => ({ from: iso(M), to: iso(N) });

describe("Manager.usageReport", () => {
  it("lists one line per account, product and UTC day where there was usage, in time order, with costs and totals", async () => {
    const r = await reportOf(manager.token, { ...period(), groupBy: "DAY", first: 250 });
    expect(r.edges.map((e) => terse(e.node))).toEqual([
      `sibling|MMS_OUTBOUND|${iso(M)}|4|0.085200`,
      `sub|SMS_OUTBOUND|${iso(new Date(D.getTime() - DAY_MS))}|3|0.023700`,
      ...[`sub|SMS_OUTBOUND|${iso(D)}|5|0.039500`, `manager|SMS_INBOUND|${iso(D)}|10|0.005000`].sort((a, b) =>
        // Within a bucket by account id (both are uuid v7: creation order), then product.
        (a.startsWith("manager") ? dbId(manager.id) : dbId(sub.id)).localeCompare(b.startsWith("manager") ? dbId(manager.id) : dbId(sub.id)),
      ),
      `sub|VOICE_OUTBOUND_MINUTE|${iso(new Date(N.getTime() - DAY_MS))}|2|0.028000`,
    ]);
    expect(r.totalCount).toBe(5);
    expect(r).toMatchObject({ from: iso(M), to: iso(N), groupBy: "DAY" });
    expect(r.totals).toEqual({
      lines: [
        { product: "SMS_OUTBOUND", quantity: 8, records: 2, cost: { amount: "0.063200" } },
        { product: "SMS_INBOUND", quantity: 10, records: 1, cost: { amount: "0.005000" } },
        { product: "MMS_OUTBOUND", quantity: 4, records: 1, cost: { amount: "0.085200" } },
        { product: "VOICE_OUTBOUND_MINUTE", quantity: 2, records: 1, cost: { amount: "0.028000" } },
      ],
      totalCost: { amount: "0.181400" },
    });
    expect(r.edges.map((e) => e.node.account.__typename).sort()).toEqual(["Manager", "SubAccount", "SubAccount", "SubAccount", "SubAccount"]);
    expect(r.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    // Line ids are stable across reports of the same bucket.
    const again = await reportOf(manager.token, { ...period(), groupBy: "DAY", first: 250, sort: "COST_DESC" });
    expect(new Set(again.edges.map((e) => e.node.id))).toEqual(new Set(r.edges.map((e) => e.node.id)));
  });

  it("by MONTH, and without groupBy, the same usage in fewer lines; the totals do not change", async () => {
    const month = await reportOf(manager.token, { ...period(), groupBy: "MONTH", first: 250 });
    expect(month.edges.map((e) => terse(e.node)).sort()).toEqual(
      [
        `sibling|MMS_OUTBOUND|${iso(M)}|4|0.085200`,
        `sub|SMS_OUTBOUND|${iso(M)}|8|0.063200`,
        `sub|VOICE_OUTBOUND_MINUTE|${iso(M)}|2|0.028000`,
        `manager|SMS_INBOUND|${iso(M)}|10|0.005000`,
      ].sort(),
    );
    expect(month.edges.every((e) => e.node.end === iso(N))).toBe(true);
    const whole = await reportOf(manager.token, { ...period(), first: 250 });
    expect(whole.groupBy).toBeNull();
    expect(whole.edges.map((e) => terse(e.node)).sort()).toEqual(month.edges.map((e) => terse(e.node)).sort());
    expect(whole.totals).toEqual(month.totals);
  });

  it("sums to exactly the CHARGE ledger entries of the period's usage, on every balance the tree's charges hit", async () => {
    const r = await reportOf(manager.token, { ...period(), groupBy: "DAY", first: 250 });
    const tree = [manager, sub, sibling].map((a) => dbId(a.id));
    const entries = await prisma.ledgerEntry.findMany({
      where: { kind: "CHARGE", usageRecord: { accountId: { in: tree }, occurredAt: { gte: M, lt: N } } },
      select: { amountMicros: true },
    });
    const ledgerMicros = -entries.reduce((sum, e) => sum + e.amountMicros, 0n);
    const toMicros = (amount: string) => BigInt(amount.replace(".", ""));
    const lineMicros = r.edges.reduce((sum, e) => sum + toMicros(e.node.cost!.amount), 0n);
    expect(lineMicros).toBe(ledgerMicros);
    expect(toMicros(r.totals.totalCost!.amount)).toBe(ledgerMicros);
    expect(entries).toHaveLength(5);
  });

  it("sorts by spend, most or least first, and by time, newest first", async () => {
    const costs = async (sort: string) =>
      (await reportOf(manager.token, { ...period(), groupBy: "DAY", sort, first: 250 })).edges.map((e) => e.node.cost!.amount);
    expect(await costs("COST_DESC")).toEqual(["0.085200", "0.039500", "0.028000", "0.023700", "0.005000"]);
    expect(await costs("COST_ASC")).toEqual(["0.005000", "0.023700", "0.028000", "0.039500", "0.085200"]);
    const newest = (await reportOf(manager.token, { ...period(), groupBy: "DAY", sort: "TIME_DESC", first: 250 })).edges.map((e) => e.node.start);
    expect(newest).toEqual([...newest].sort().reverse());
    expect(newest[0]).toBe(iso(new Date(N.getTime() - DAY_MS)));
  });

  it.each(["TIME_ASC", "TIME_DESC", "COST_DESC", "COST_ASC"])("pages through every line exactly once, forwards and backwards (%s)", async (sort) => {
    const all = (await reportOf(manager.token, { ...period(), groupBy: "DAY", sort, first: 250 })).edges.map((e) => e.node.id);
    const forwards: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: ManagerReport = await reportOf(manager.token, { ...period(), groupBy: "DAY", sort, first: 2, after });
      forwards.push(...page.edges.map((e) => e.node.id));
      expect(page.totalCount).toBe(5);
      expect(page.pageInfo.hasPreviousPage).toBe(after != null);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(forwards).toEqual(all);
    const backwards: string[] = [];
    let before: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: ManagerReport = await reportOf(manager.token, { ...period(), groupBy: "DAY", sort, last: 2, before });
      backwards.unshift(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(backwards).toEqual(all);
  });

  it("of a period with no usage: zero lines, zero count, empty totals at zero cost", async () => {
    const quiet = utc(N.getUTCFullYear(), N.getUTCMonth() - 7);
    const r = await reportOf(manager.token, { from: iso(quiet), to: iso(utc(quiet.getUTCFullYear(), quiet.getUTCMonth() + 1)), groupBy: "DAY" });
    expect(r).toMatchObject({ totalCount: 0, edges: [], totals: { lines: [], totalCost: { amount: "0.000000" } } });
    expect(r.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it("defaults to the current UTC month", async () => {
    const r = await reportOf(manager.token, {});
    expect(r.from).toBe(iso(N));
    expect(r.to).toBe(iso(utc(N.getUTCFullYear(), N.getUTCMonth() + 1)));
    // The sub's 7 SMS at the first instant of this month.
    expect(r.edges.map((e) => terse(e.node))).toEqual([`sub|SMS_OUTBOUND|${iso(N)}|7|0.055300`]);
  });
});

describe("who sees which report", () => {
  it("the operator reads a manager's report through node, costs and all", async () => {
    const { node } = await gqlData(OPERATOR_REPORT, { token: OPERATOR_TOKEN, variables: { id: manager.id, ...period(), groupBy: "DAY" } });
    const r = fieldOf(node, "usageReport");
    expect(r.totalCount).toBe(5);
    expect(r.totals.totalCost).toEqual({ amount: "0.181400" });
  });

  it("a foreign manager cannot reach this tree's report, and its own holds nothing of this tree", async () => {
    const { node } = await gqlData(OPERATOR_REPORT, { token: otherManager.token, variables: { id: manager.id, ...period(), groupBy: "DAY" } });
    expect(node).toBeNull();
    const own = await reportOf(otherManager.token, { ...period(), groupBy: "DAY", first: 250 });
    const ours = new Set([manager.id, sub.id, sibling.id]);
    expect(own.edges.length).toBe(2);
    expect(own.edges.some((e) => ours.has(e.node.account.id))).toBe(false);
    expect(own.totals.totalCost).toEqual({ amount: "0.118500" });
  });

  it("a sub-account gets its own lines with quantities only; a sibling never appears in it", async () => {
    const { viewer } = await gqlData(SUB_REPORT, { token: sub.token, variables: { ...period(), groupBy: "DAY", first: 250 } });
    const r = fieldOf(viewer.account, "usageReport");
    expect(r.edges.map((e) => terse(e.node))).toEqual([
      `sub|SMS_OUTBOUND|${iso(new Date(D.getTime() - DAY_MS))}|3`,
      `sub|SMS_OUTBOUND|${iso(D)}|5`,
      `sub|VOICE_OUTBOUND_MINUTE|${iso(new Date(N.getTime() - DAY_MS))}|2`,
    ]);
    expect(r.totals.lines).toEqual([
      { product: "SMS_OUTBOUND", quantity: 8, records: 2 },
      { product: "VOICE_OUTBOUND_MINUTE", quantity: 2, records: 1 },
    ]);
    const siblings = fieldOf((await gqlData(SUB_REPORT, { token: sibling.token, variables: { ...period(), first: 250 } })).viewer.account, "usageReport");
    expect(siblings.edges.map((e) => e.node.account.id)).toEqual([sibling.id]);
  });

  it("the cost of a line, the totals' cost and a sort by cost are FORBIDDEN to a sub-account; Manager.usageReport is not in its schema", async () => {
    const cost = await gql(SUB_REPORT_COST, { token: sub.token, variables: period() });
    expect(withheld(cost)).toBe(true);
    expect(cost.body.errors![0]!.message).toMatch(/UsageReportLine.cost is not available to your role/);
    const total = await gql(`{ viewer { account { ... on SubAccount { usageReport { totals { totalCost { amount } } } } } } }`, { token: sub.token });
    expect(errorCodes(total)).toEqual(["FORBIDDEN"]);
    const sorted = await gql(`{ viewer { account { ... on SubAccount { usageReport(sort: COST_DESC) { nodes { quantity } } } } } }`, { token: sub.token });
    expect(errorCodes(sorted)).toEqual(["FORBIDDEN"]);
    expect(JSON.stringify(sorted.body.data)).not.toMatch(/quantity/);
    const tree = await gql(`{ viewer { account { ... on Manager { usageReport { totalCount } } } } }`, { token: sub.token });
    expect(errorCodes(tree)).toEqual(["FORBIDDEN"]);
    // Its manager reads the same sub-account's report with costs, and may sort it by them.
    const seen = await gql(
      `query($id: ID!) { node(id: $id) { ... on SubAccount { usageReport(from: "${iso(M)}", to: "${iso(N)}", sort: COST_DESC) { nodes { cost { amount } } } } } }`,
      {
        token: manager.token,
        variables: { id: sub.id },
      },
    );
    expect(seen.body.errors).toBeUndefined();
    expect(JSON.stringify(seen.body.data)).toContain("0.063200");
  });

  it("a cursor from another tree, another account or another period is BAD_USER_INPUT, like a made-up one", async () => {
    const foreign = (await reportOf(otherManager.token, { ...period(), first: 1 })).pageInfo.endCursor!;
    const missing = formatPrismaCursor({ id: "00000000-0000-7000-8000-000000000000" }, "id");
    const ask = (token: string, after: string, variables = period()) => gql(MANAGER_REPORT, { token, variables: { ...variables, first: 5, after } });
    const a = await ask(manager.token, foreign);
    const b = await ask(manager.token, missing);
    expect(errorCodes(a)).toEqual(["BAD_USER_INPUT"]);
    expect(a.body).toEqual(b.body);
    expect(errorCodes(await ask(manager.token, "garbage"))).toEqual(["BAD_USER_INPUT"]);
    // A sibling's line, asked of the sub-account's own report.
    const siblingCursor = fieldOf((await gqlData(SUB_REPORT, { token: sibling.token, variables: { ...period(), first: 1 } })).viewer.account, "usageReport")
      .edges[0]!.cursor;
    const asSub = await gql(SUB_REPORT, { token: sub.token, variables: { ...period(), first: 5, after: siblingCursor } });
    expect(errorCodes(asSub)).toEqual(["BAD_USER_INPUT"]);
    // This tree's own line, but of another period: reachable, yet not a line of that report.
    const ours = (await reportOf(manager.token, { ...period(), first: 1 })).pageInfo.endCursor!;
    const elsewhere = await ask(manager.token, ours, { from: iso(N), to: iso(utc(N.getUTCFullYear(), N.getUTCMonth() + 1)) });
    expect(errorCodes(elsewhere)).toEqual(["BAD_USER_INPUT"]);
    expect(elsewhere.body.errors![0]!.message).toMatch(/not a cursor of this list/);
  });

  it("page sizes follow the connection rules (1 to 250) as literals and variables", async () => {
    for (const first of [0, 251]) {
      expect(errorCodes(await gql(MANAGER_REPORT, { token: manager.token, variables: { first } }))).toEqual(["BAD_USER_INPUT"]);
      expect(
        errorCodes(await gql(`{ viewer { account { ... on Manager { usageReport(first: ${first}) { totalCount } } } } }`, { token: manager.token })),
      ).toEqual(["BAD_USER_INPUT"]);
    }
  });
});

// ------------------------------------------------------------ statements

/** A manager with `count` sub-accounts (bulk-made: the API path is covered above), each with usage on three days of last month. */
async function treeWithUsage(count: number) {
  const owner = await createManager();
  const managerId = dbId(owner.id);
  const tag = unique("report-tree");
  await prisma.account.createMany({
    data: Array.from({ length: count }, (_, i) => ({ kind: "SUB_ACCOUNT" as const, managerId, email: `${tag}-${i}@example.com` })),
  });
  const subs = await prisma.account.findMany({ where: { managerId }, select: { id: true } });
  await prisma.usageRecord.createMany({
    data: subs.flatMap((s, i) =>
      [0, 1, 2].flatMap((day) =>
        (["SMS_OUTBOUND", "VOICE_OUTBOUND_MINUTE"] as const).map((product, k) => ({
          accountId: s.id,
          product,
          quantity: i + k + 1,
          unitPriceMicros: 10_000n,
          costMicros: 10_000n * BigInt(i + k + 1),
          idempotencyKey: `${tag}-${i}-${day}-${k}`,
          occurredAt: new Date(M.getTime() + day * DAY_MS + 3600_000),
        })),
      ),
    ),
  });
  return owner;
}

const TREE_REPORT = `query($from: DateTime, $to: DateTime) { viewer { account { ... on Manager {
  byCost: usageReport(from: $from, to: $to, groupBy: DAY, sort: COST_DESC, first: 250) {
    totalCount totals { lines { product quantity cost { amount } } totalCost { amount } }
    edges { cursor node { id account { id email ... on SubAccount { status } } product start quantity cost { amount } } } pageInfo { endCursor } }
  subAccounts(first: 250) { nodes { id usageReport(from: $from, to: $to, groupBy: MONTH, first: 5) { totalCount nodes { product quantity cost { amount } } } } } } } } }`;
interface TreeReport {
  viewer: {
    account: {
      byCost: { totalCount: number; edges: unknown[]; totals: { totalCost: { amount: string } } };
      subAccounts: { nodes: { usageReport: { totalCount: number } }[] };
    };
  };
}

describe("SQL statements per request", () => {
  it("a tree's report, and every sub-account's own, cost the same statements for 5 and for 200 sub-accounts", async () => {
    const small = await treeWithUsage(5);
    const large = await treeWithUsage(200);
    for (const owner of [small, large]) {
      await gqlData<TreeReport>(TREE_REPORT, { token: owner.token, variables: period() });
    }
    await settleKeyUsage();
    const a = await countStatements(() => gqlData<TreeReport>(TREE_REPORT, { token: small.token, variables: period() }));
    const b = await countStatements(() => gqlData<TreeReport>(TREE_REPORT, { token: large.token, variables: period() }));
    expect(a.result.viewer.account.byCost.totalCount).toBe(5 * 3 * 2);
    expect(b.result.viewer.account.byCost.totalCount).toBe(200 * 3 * 2);
    expect(b.result.viewer.account.byCost.edges).toHaveLength(250);
    expect(b.result.viewer.account.subAccounts.nodes.every((n) => n.usageReport.totalCount === 2)).toBe(true);
    console.log(`usage report tree: ${a.statements} statements for 5 sub-accounts, ${b.statements} for 200`);
    expect(b.statements).toBe(a.statements);
    // Authentication, the tree's report, the page's account rows, the sub-accounts' page and their reports (one statement for all).
    expect(a.statements).toBeLessThanOrEqual(5);
  });
});
