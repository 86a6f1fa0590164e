// A whole tree's balances, prices and usage summaries cost a constant number
// of SQL statements: 5 sub-accounts and 500 cost the same. A charge costs one.
import { describe, expect, it } from "vitest";
import { settleKeyUsage } from "../../src/auth/authenticate.js";
import { prisma } from "../../src/db/client.js";
import { countStatements, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, setAccountPricing, topUp, unique } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "./operations.js";

/** A manager with `count` sub-accounts (bulk-made: the API path is covered elsewhere), each with two usage records. */
async function managerWithUsage(count: number) {
  const manager = await createManager();
  await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.01" });
  const managerId = dbId(manager.id);
  const tag = unique("usage-tree");
  await prisma.account.createMany({
    data: Array.from({ length: count }, (_, i) => ({
      kind: "SUB_ACCOUNT" as const,
      managerId,
      email: `${tag}-${i}@example.com`,
      rollupBilling: i % 2 === 0,
      creditLimitMicros: i % 3 === 0 ? 5_000_000n : null,
    })),
  });
  const subs = await prisma.account.findMany({ where: { managerId }, select: { id: true } });
  const occurredAt = new Date(Date.now() - 60_000);
  await prisma.usageRecord.createMany({
    data: subs.flatMap((s, i) =>
      (["SMS_OUTBOUND", "VOICE_OUTBOUND_MINUTE"] as const).map((product, k) => ({
        accountId: s.id,
        product,
        quantity: i + k + 1,
        unitPriceMicros: 10_000n,
        costMicros: 10_000n * BigInt(i + k + 1),
        idempotencyKey: `${tag}-${i}-${k}`,
        occurredAt,
      })),
    ),
  });
  return manager;
}

// `first` is at most 250: two aliased pages (oldest first, newest first)
// cover 500. The small tree is split the same way, so both requests have the
// same shape and differ only in how many sub-accounts they list.
const page = (alias: string, sort: string, first: string) => `${alias}: subAccounts(first: ${first}, sort: ${sort}) { totalCount nodes { id
  balance { shared available { amount } creditLimit { amount } totalSpent { amount } remainingCredit { amount } }
  pricing { source rates { product unitPrice { amount } } }
  usageSummary(from: $from, to: $to) { lines { product quantity records cost { amount } } totalCost { amount } } } }`;
const TREE = `query($from: DateTime!, $to: DateTime!, $oldest: Int!, $newest: Int!) { viewer { account { ... on Manager {
  balance { available { amount } } pricing { source }
  usageSummary(from: $from, to: $to) { totalCost { amount } }
  ${page("oldest", "CREATED_AT_ASC", "$oldest")} ${page("newest", "CREATED_AT_DESC", "$newest")} } } } }`;

/** What the tests read of TREE's answer (built at run time, so typed here). */
interface TreePage {
  nodes: {
    id: string;
    pricing: { source: string; rates: { product: string; unitPrice: { amount: string } }[] } | null;
    usageSummary: { lines: { product: string; quantity: number; records: number; cost: { amount: string } | null }[] };
  }[];
}
interface TreeResult {
  viewer: { account: { oldest?: TreePage; newest?: TreePage } | null };
}

/** The two pages of TREE's answer; the viewer is the manager, so `... on Manager` matched. */
function pagesOf(r: TreeResult): { oldest: TreePage; newest: TreePage } {
  const { oldest, newest } = r.viewer.account ?? {};
  if (!oldest || !newest) throw new Error(`not a manager's tree: ${JSON.stringify(r).slice(0, 200)}`);
  return { oldest, newest };
}

describe("SQL statements per request", () => {
  it("usage summaries, balances and prices of every sub-account cost the same for 5 and for 500 sub-accounts", async () => {
    const small = await managerWithUsage(5);
    const large = await managerWithUsage(500);
    const period = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
    const smallPages = { ...period, oldest: 3, newest: 2 };
    const largePages = { ...period, oldest: 250, newest: 250 };
    // Warm up (the first request of a key also writes lastUsedAt).
    await gqlData<TreeResult>(TREE, { token: small.token, variables: smallPages });
    await gqlData<TreeResult>(TREE, { token: large.token, variables: largePages });
    const a = await countStatements(() => gqlData<TreeResult>(TREE, { token: small.token, variables: smallPages }));
    const b = await countStatements(() => gqlData<TreeResult>(TREE, { token: large.token, variables: largePages }));

    const ids = (r: TreeResult) => {
      const { oldest, newest } = pagesOf(r);
      return new Set([...oldest.nodes, ...newest.nodes].map((n) => n.id)).size;
    };
    expect(ids(a.result)).toBe(5);
    expect(ids(b.result)).toBe(500);
    const first = pagesOf(b.result).oldest.nodes[0];
    expect(first).toBeDefined();
    expect(first!.usageSummary.lines).toEqual([
      { product: "SMS_OUTBOUND", quantity: expect.any(Number), records: 1, cost: { amount: expect.any(String) } },
      { product: "VOICE_OUTBOUND_MINUTE", quantity: expect.any(Number), records: 1, cost: { amount: expect.any(String) } },
    ]);
    expect(first!.pricing?.source).toBe("INHERITED_FROM_MANAGER");
    expect(first!.pricing?.rates.find((r) => r.product === "SMS_OUTBOUND")?.unitPrice.amount).toBe("0.010000");

    console.log(`billing tree: ${a.statements} statements for 5 sub-accounts, ${b.statements} for 500`);
    expect(b.statements).toBe(a.statements);
    // Authenticate, the manager with its first page (balances joined), the
    // second page, and per page one usage GROUP BY and the rate cards (two).
    expect(a.statements).toBeLessThanOrEqual(10);
  });

  it("recordUsage costs two statements, authentication and the charge, on every kind of balance and for every caller", async () => {
    const manager = await createManager();
    await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.01" });
    await topUp(manager.id, "10");
    const rollup = await createSubAccount(manager, { rollupBilling: true });
    const own = await createSubAccount(manager);
    await topUp(own.id, "10", manager.token);
    const CHARGE = graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename
      ... on RecordUsageSuccess { usageRecord { id quantity } balance { available { amount } totalSpent { amount } } } } }`);
    const charge = (token: string, accountId: string) =>
      gqlData(CHARGE, { token, variables: { input: { accountId, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("count") } } });
    for (const [token, account] of [
      [rollup.token, rollup],
      [manager.token, rollup],
      [own.token, own],
      [manager.token, manager],
      [OPERATOR_TOKEN, rollup],
    ] as const) {
      // Warm up (the first request of a key also writes its lastUsedAt).
      await charge(token, account.id);
      await settleKeyUsage();
      const counted = await countStatements(() => charge(token, account.id));
      expect(counted.result.recordUsage.__typename).toBe("RecordUsageSuccess");
      // The operator's token needs no statement to authenticate.
      expect(counted.statements).toBe(token === OPERATOR_TOKEN ? 1 : 2);
    }
  });
});
