// recordUsage: pricing, debiting the right balance, credit limits, idempotency,
// lifecycle, and the usage lists and summaries it feeds.
import { describe, expect, it } from "vitest";
import { gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, setAccountPricing, topUp } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { balanceOf, expectInvariants, fieldOf, ofType, recordUsage, result, resultOfType, withheld } from "./operations.js";

/** A manager on a known rate card (platform changes elsewhere cannot move it), with funds. */
async function pricedManager(funds = "10") {
  const manager = await createManager();
  await setAccountPricing(manager.id, {
    SMS_OUTBOUND: "0.01",
    SMS_INBOUND: "0.005",
    MMS_OUTBOUND: "0.02",
    VOICE_OUTBOUND_MINUTE: "0.1",
    PHONE_NUMBER_MONTHLY: "1",
  });
  if (funds !== "0") await topUp(manager.id, funds);
  return manager;
}

describe("recordUsage", () => {
  it("charges a manager's own usage at its rate and writes one record and one ledger entry", async () => {
    const manager = await pricedManager("10");
    const r = resultOfType(
      await recordUsage(manager.token, { accountId: manager.id, product: "SMS_OUTBOUND", quantity: 7, idempotencyKey: "m-1" }),
      "RecordUsageSuccess",
    );
    expect(r.usageRecord).toMatchObject({ product: "SMS_OUTBOUND", quantity: 7, idempotencyKey: "m-1", account: { id: manager.id } });
    expect(r.balance).toMatchObject({
      isSubAccount: false,
      shared: false,
      available: { amount: "9.930000", currency: "USD" },
      totalSpent: { amount: "0.070000" },
    });
    const ledger = await gqlData(
      graphql(
        `query($id: ID!) { node(id: $id) { ... on Account { balance { ledger { totalCount nodes { kind amount { amount } balanceAfter { amount } account { id } usageRecord { id cost { amount } } } } } } } }`,
      ),
      {
        token: manager.token,
        variables: { id: manager.id },
      },
    );
    const entries = fieldOf(ledger.node, "balance").ledger;
    expect(entries.totalCount).toBe(2);
    expect(entries.nodes[0]).toEqual({
      kind: "CHARGE",
      amount: { amount: "-0.070000" },
      balanceAfter: { amount: "9.930000" },
      account: { id: manager.id },
      usageRecord: { id: r.usageRecord.id, cost: { amount: "0.070000" } },
    });
    expect(entries.nodes[1]).toMatchObject({ kind: "TOP_UP", amount: { amount: "10.000000" }, balanceAfter: { amount: "10.000000" } });
    await expectInvariants([manager.id]);
  });

  it("debits a rollup sub-account's charges from its manager, adds them to the sub's totalSpent, and lists them on the sub's ledger", async () => {
    const manager = await pricedManager("5");
    const sub = await createSubAccount(manager, { rollupBilling: true });
    const r = resultOfType(await recordUsage(sub.token, { accountId: sub.id, product: "MMS_OUTBOUND", quantity: 10 }), "RecordUsageSuccess");
    // The sub-account itself does not see the shared funds.
    expect(r.balance).toMatchObject({ isSubAccount: true, shared: true, available: null, totalSpent: { amount: "0.200000" } });
    expect(await balanceOf(manager.token, manager.id)).toMatchObject({ available: { amount: "4.800000" }, totalSpent: { amount: "0.000000" } });
    expect(await balanceOf(manager.token, sub.id)).toMatchObject({ shared: true, available: { amount: "4.800000" }, totalSpent: { amount: "0.200000" } });
    const seen = await gqlData(
      graphql(`query($id: ID!) { node(id: $id) { ... on Account { balance { ledger { totalCount nodes { kind amount { amount } account { id } } } } } } }`),
      {
        token: manager.token,
        variables: { id: sub.id },
      },
    );
    expect(fieldOf(seen.node, "balance").ledger).toEqual({
      totalCount: 1,
      nodes: [{ kind: "CHARGE", amount: { amount: "-0.200000" }, account: { id: sub.id } }],
    });
    await expectInvariants([manager.id, sub.id]);
  });

  it("debits a sub-account with its own balance from that balance only", async () => {
    const manager = await pricedManager("5");
    const sub = await createSubAccount(manager);
    await topUp(sub.id, "1", manager.token);
    const r = resultOfType(await recordUsage(manager.token, { accountId: sub.id, product: "SMS_INBOUND", quantity: 20 }), "RecordUsageSuccess");
    expect(r.balance).toMatchObject({ shared: false, available: { amount: "0.900000" }, totalSpent: { amount: "0.100000" } });
    // The manager's top-up of the sub was a payment, not a debit of the manager.
    expect((await balanceOf(manager.token, manager.id))?.available?.amount).toBe("5.000000");
    expect((await balanceOf(sub.token, sub.id))?.available?.amount).toBe("0.900000");
    await expectInvariants([manager.id, sub.id]);
  });

  it("refuses a charge the balance does not cover with InsufficientFundsError and records nothing", async () => {
    const manager = await pricedManager("0.05");
    const sub = await createSubAccount(manager, { rollupBilling: true });
    const r = result(await recordUsage(sub.token, { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 6 }));
    expect(r).toMatchObject({ __typename: "InsufficientFundsError", code: "INSUFFICIENT_FUNDS" });
    // Exactly the balance is fine: it may reach zero.
    expect(result(await recordUsage(sub.token, { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 5 })).__typename).toBe("RecordUsageSuccess");
    expect((await balanceOf(manager.token, sub.id))?.available?.amount).toBe("0.000000");
    const records = await gqlData(graphql(`query($id: ID!) { node(id: $id) { ... on Account { usageRecords { totalCount } } } }`), {
      token: sub.token,
      variables: { id: sub.id },
    });
    expect(fieldOf(records.node, "usageRecords").totalCount).toBe(1);
    await expectInvariants([manager.id, sub.id]);
  });

  it("refuses a charge above the credit limit with CreditLimitExceededError, showing limit and total spent", async () => {
    const manager = await pricedManager("100");
    const sub = await createSubAccount(manager, { rollupBilling: true, creditLimit: "0.25" });
    expect(result(await recordUsage(sub.token, { accountId: sub.id, quantity: 20 })).__typename).toBe("RecordUsageSuccess");
    const r = result(await recordUsage(sub.token, { accountId: sub.id, quantity: 6 }));
    expect(r).toMatchObject({
      __typename: "CreditLimitExceededError",
      code: "CREDIT_LIMIT_EXCEEDED",
      creditLimit: { amount: "0.250000" },
      totalSpent: { amount: "0.200000" },
    });
    const balance = await balanceOf(sub.token, sub.id);
    expect(balance).toMatchObject({ creditLimit: { amount: "0.250000" }, totalSpent: { amount: "0.200000" }, remainingCredit: { amount: "0.050000" } });
    expect(result(await recordUsage(sub.token, { accountId: sub.id, quantity: 5 })).__typename).toBe("RecordUsageSuccess");
    expect((await balanceOf(sub.token, sub.id))?.remainingCredit?.amount).toBe("0.000000");
    await expectInvariants([manager.id, sub.id]);
  });

  it("returns the first result for a replayed key and charges once; another payload is an IdempotencyConflictError", async () => {
    const manager = await pricedManager("1");
    const first = resultOfType(await recordUsage(manager.token, { accountId: manager.id, quantity: 3, idempotencyKey: "same" }), "RecordUsageSuccess");
    const again = resultOfType(await recordUsage(manager.token, { accountId: manager.id, quantity: 3, idempotencyKey: "same" }), "RecordUsageSuccess");
    expect(again.usageRecord).toEqual(first.usageRecord);
    expect(again.balance.available?.amount).toBe("0.970000");
    const other = result(await recordUsage(manager.token, { accountId: manager.id, quantity: 4, idempotencyKey: "same" }));
    expect(other).toMatchObject({ __typename: "IdempotencyConflictError", code: "IDEMPOTENCY_CONFLICT" });
    // Keys are per account: the same key on a sub-account is a new charge.
    const sub = await createSubAccount(manager, { rollupBilling: true });
    expect(
      resultOfType(await recordUsage(manager.token, { accountId: sub.id, quantity: 3, idempotencyKey: "same" }), "RecordUsageSuccess").usageRecord.id,
    ).not.toBe(first.usageRecord.id);
    // A refused charge spends no key: it can be retried once funds arrive.
    const poor = await pricedManager("0");
    expect(result(await recordUsage(poor.token, { accountId: poor.id, idempotencyKey: "retry" })).__typename).toBe("InsufficientFundsError");
    await topUp(poor.id, "1");
    expect(result(await recordUsage(poor.token, { accountId: poor.id, idempotencyKey: "retry" })).__typename).toBe("RecordUsageSuccess");
    await expectInvariants([manager.id, sub.id, poor.id]);
  });

  it("answers a replayed key before any refusal (credit limit, funds, status), and never to a caller out of reach", async () => {
    const manager = await pricedManager("0.05");
    const sub = await createSubAccount(manager, { rollupBilling: true, creditLimit: "0.03" });
    const first = resultOfType(await recordUsage(sub.token, { accountId: sub.id, quantity: 3, idempotencyKey: "k" }), "RecordUsageSuccess");
    const replay = async () =>
      resultOfType(await recordUsage(sub.token, { accountId: sub.id, quantity: 3, idempotencyKey: "k" }), "RecordUsageSuccess").usageRecord;

    // The credit limit is reached: a new key is refused, the first key still answers.
    expect(result(await recordUsage(sub.token, { accountId: sub.id }))).toMatchObject({ __typename: "CreditLimitExceededError" });
    expect(await replay()).toEqual(first.usageRecord);

    // The balance is spent: the same for funds, on an own balance and on a shared one.
    const own = resultOfType(await recordUsage(manager.token, { accountId: manager.id, quantity: 2, idempotencyKey: "m" }), "RecordUsageSuccess");
    expect(result(await recordUsage(manager.token, { accountId: manager.id }))).toMatchObject({
      __typename: "InsufficientFundsError",
      message: "The balance does not cover this charge",
    });
    expect(
      resultOfType(await recordUsage(manager.token, { accountId: manager.id, quantity: 2, idempotencyKey: "m" }), "RecordUsageSuccess").usageRecord,
    ).toEqual(own.usageRecord);
    const unlimited = await createSubAccount(manager, { rollupBilling: true });
    expect(result(await recordUsage(unlimited.token, { accountId: unlimited.id }))).toMatchObject({
      __typename: "InsufficientFundsError",
      message: "The manager's shared balance does not cover this charge",
    });
    expect(await replay()).toEqual(first.usageRecord);

    // Suspended: the same.
    await gqlData(graphql(`mutation($id: ID!) { suspendSubAccount(input: { id: $id }) { __typename } }`), { token: manager.token, variables: { id: sub.id } });
    expect(result(await recordUsage(manager.token, { accountId: sub.id }))).toMatchObject({ __typename: "AccountNotActiveError" });
    expect(await replay()).toEqual(first.usageRecord);

    // Another tree naming the account and the key learns nothing.
    const stranger = await pricedManager("1");
    expect(result(await recordUsage(stranger.token, { accountId: sub.id, quantity: 3, idempotencyKey: "k" }))).toMatchObject({ __typename: "NotFoundError" });
    await expectInvariants([manager.id, sub.id, unlimited.id]);
  });

  it("refuses usage on suspended and closed accounts, and under a suspended manager, with AccountNotActiveError", async () => {
    const manager = await pricedManager("10");
    const sub = await createSubAccount(manager, { rollupBilling: true });
    const status = (name: string, id: string) =>
      gqlData(`mutation($id: ID!) { ${name}(input: { id: $id }) { __typename } }`, {
        token: name.endsWith("Manager") ? OPERATOR_TOKEN : manager.token,
        variables: { id },
      });

    await status("suspendSubAccount", sub.id);
    expect(result(await recordUsage(manager.token, { accountId: sub.id }))).toMatchObject({ __typename: "AccountNotActiveError", status: "SUSPENDED" });
    await status("reactivateSubAccount", sub.id);

    await status("suspendManager", manager.id);
    expect(result(await recordUsage(sub.token, { accountId: sub.id }))).toMatchObject({ __typename: "AccountNotActiveError", status: "SUSPENDED" });
    expect(result(await recordUsage(OPERATOR_TOKEN, { accountId: manager.id }))).toMatchObject({ __typename: "AccountNotActiveError", status: "SUSPENDED" });
    await status("reactivateManager", manager.id);
    expect(result(await recordUsage(sub.token, { accountId: sub.id })).__typename).toBe("RecordUsageSuccess");

    await status("closeSubAccount", sub.id);
    expect(result(await recordUsage(manager.token, { accountId: sub.id }))).toMatchObject({ __typename: "AccountNotActiveError", status: "CLOSED" });
    await expectInvariants([manager.id, sub.id]);
  });

  it("validates quantity, key and occurredAt", async () => {
    const manager = await pricedManager("1");
    for (const [input, path] of [
      [{ quantity: 0 }, "quantity"],
      [{ quantity: -3 }, "quantity"],
      [{ quantity: 1_000_001 }, "quantity"],
      [{ idempotencyKey: "" }, "idempotencyKey"],
      [{ idempotencyKey: "x".repeat(256) }, "idempotencyKey"],
      [{ occurredAt: new Date(Date.now() + 3_600_000).toISOString() }, "occurredAt"],
      [{ occurredAt: "2001-01-01T00:00:00Z" }, "occurredAt"],
    ] as const) {
      const r = ofType(result(await recordUsage(manager.token, { accountId: manager.id, ...input })), "ValidationError", JSON.stringify(input));
      expect(r.fieldErrors.map((e) => e.path.join("."))).toEqual([path]);
    }
    expect((await balanceOf(manager.token, manager.id))?.totalSpent.amount).toBe("0.000000");
    // An unknown product never reaches the resolver.
    const res = await gql(`mutation { recordUsage(input: { accountId: "${manager.id}", product: FAX, quantity: 1, idempotencyKey: "k" }) { __typename } }`, {
      token: manager.token,
    });
    expect(res.body.errors?.[0]?.message).toMatch(/FAX/);
  });
});

describe("usage lists and summaries", () => {
  it("pages and filters usage records by product and period, newest first", async () => {
    const manager = await pricedManager("10");
    // occurredAt must be within the last year: days counted from ten days ago.
    const base = Date.now() - 10 * 86_400_000;
    const day = (n: number) => new Date(base + n * 86_400_000).toISOString();
    for (const [product, n] of [
      ["SMS_OUTBOUND", 1],
      ["SMS_INBOUND", 2],
      ["SMS_OUTBOUND", 3],
      ["VOICE_OUTBOUND_MINUTE", 4],
    ] as const) {
      result(await recordUsage(manager.token, { accountId: manager.id, product, quantity: n, occurredAt: day(n) }));
    }
    const q = graphql(`query($id: ID!, $product: Product, $from: DateTime, $to: DateTime, $after: String) { node(id: $id) { ... on Account {
      usageRecords(first: 2, product: $product, from: $from, to: $to, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { product quantity cost { amount } } } } } }`);
    const all = fieldOf((await gqlData(q, { token: manager.token, variables: { id: manager.id } })).node, "usageRecords");
    expect(all.totalCount).toBe(4);
    expect(all.nodes.map((n) => n.quantity)).toEqual([4, 3]);
    const next = fieldOf((await gqlData(q, { token: manager.token, variables: { id: manager.id, after: all.pageInfo.endCursor } })).node, "usageRecords");
    expect(next.nodes.map((n) => n.quantity)).toEqual([2, 1]);
    const sms = fieldOf((await gqlData(q, { token: manager.token, variables: { id: manager.id, product: "SMS_OUTBOUND" } })).node, "usageRecords");
    expect(sms).toMatchObject({ totalCount: 2, nodes: [{ quantity: 3, cost: { amount: "0.030000" } }, { quantity: 1 }] });
    const period = fieldOf((await gqlData(q, { token: manager.token, variables: { id: manager.id, from: day(2), to: day(4) } })).node, "usageRecords");
    expect(period.totalCount).toBe(2);
    expect(period.nodes.map((n) => n.quantity)).toEqual([3, 2]);
    const backwards = await gql(q, { token: manager.token, variables: { id: manager.id, from: day(4), to: day(2) } });
    expect(backwards.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("sums usage per product over a period, with costs for the manager and quantities only for the sub-account", async () => {
    const manager = await pricedManager("10");
    const sub = await createSubAccount(manager, { rollupBilling: true });
    for (const [product, quantity] of [
      ["SMS_OUTBOUND", 5],
      ["SMS_OUTBOUND", 7],
      ["VOICE_OUTBOUND_MINUTE", 3],
    ] as const) {
      result(await recordUsage(sub.token, { accountId: sub.id, product, quantity }));
    }
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const q = graphql(`query($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on Account { usageSummary(from: $from, to: $to) {
      from to lines { product quantity records cost { amount } } totalCost { amount } } } } }`);
    const seen = fieldOf((await gqlData(q, { token: manager.token, variables: { id: sub.id, from, to } })).node, "usageSummary");
    expect(seen.lines).toEqual([
      { product: "SMS_OUTBOUND", quantity: 12, records: 2, cost: { amount: "0.120000" } },
      { product: "VOICE_OUTBOUND_MINUTE", quantity: 3, records: 1, cost: { amount: "0.300000" } },
    ]);
    expect(seen.totalCost).toEqual({ amount: "0.420000" });
    // Costs are withheld from the sub-account (null with FORBIDDEN, or not in its schema); quantities are not.
    const withCosts = await gql(q, { token: sub.token, variables: { id: sub.id, from, to } });
    expect(withheld(withCosts)).toBe(true);
    expect(JSON.stringify(withCosts.body.data ?? null)).not.toContain("0.120000");
    const quantities = await gqlData(
      graphql(
        `query($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on Account { usageSummary(from: $from, to: $to) { lines { product quantity records } } } } }`,
      ),
      { token: sub.token, variables: { id: sub.id, from, to } },
    );
    expect(fieldOf(quantities.node, "usageSummary").lines).toEqual([
      { product: "SMS_OUTBOUND", quantity: 12, records: 2 },
      { product: "VOICE_OUTBOUND_MINUTE", quantity: 3, records: 1 },
    ]);
    const empty = fieldOf((await gqlData(q, { token: manager.token, variables: { id: manager.id, from, to } })).node, "usageSummary");
    expect(empty).toMatchObject({ lines: [], totalCost: { amount: "0.000000" } });
  });
});
