// Top-ups and transfers: who may move which funds, the card-testing guard,
// idempotency, and one audit event per side.
import { describe, expect, it } from "vitest";
import { gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, topUp } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { balanceOf, expectInvariants, fieldOf, refusedForRole, result, resultOfType, topUpAs, transfer, withheld } from "./operations.js";

const TOP_UP_ENTRY = graphql(`mutation($input: TopUpBalanceInput!) { topUpBalance(input: $input) {
  __typename ... on TopUpBalanceSuccess { balance { available { amount } } entry { id kind amount { amount } balanceAfter { amount } account { id } } } } }`);

const AUDIT_ACTIONS = graphql(`query($id: ID!) { node(id: $id) { ... on Account { auditEvents(first: 50) { nodes { action actorRole account { id } } } } } }`);

const auditActions = async (token: string, accountId: string) =>
  fieldOf((await gqlData(AUDIT_ACTIONS, { token, variables: { id: accountId } })).node, "auditEvents").nodes;

describe("topUpBalance", () => {
  it("adds funds to a manager's balance with a TOP_UP entry and an audit event", async () => {
    const manager = await createManager();
    const res = await gql(TOP_UP_ENTRY, { token: manager.token, variables: { input: { accountId: manager.id, amount: "12.5", idempotencyKey: "t1" } } });
    const r = resultOfType(res, "TopUpBalanceSuccess");
    expect(r.balance.available?.amount).toBe("12.500000");
    expect(r.entry).toMatchObject({ kind: "TOP_UP", amount: { amount: "12.500000" }, balanceAfter: { amount: "12.500000" }, account: { id: manager.id } });
    const events = await auditActions(manager.token, manager.id);
    expect(events.filter((e) => e.action === "balance.topUp")).toEqual([{ action: "balance.topUp", actorRole: "MANAGER", account: { id: manager.id } }]);
    await expectInvariants([manager.id]);
  });

  it("lets a sub-account top up its own balance, with the entry null (FORBIDDEN) for it, and its manager pay into it", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    const own = await gql(TOP_UP_ENTRY, { token: sub.token, variables: { input: { accountId: sub.id, amount: "2", idempotencyKey: "s1" } } });
    // The ledger entry is withheld: null with FORBIDDEN, or not in the sub-account's schema at all.
    expect(withheld(own)).toBe(true);
    if (own.body.data) {
      expect(own.body.data.topUpBalance).toEqual({ __typename: "TopUpBalanceSuccess", balance: { available: { amount: "2.000000" } }, entry: null });
    } else {
      expect(
        resultOfType(await topUpAs(sub.token, { accountId: sub.id, amount: "2", idempotencyKey: "s1" }), "TopUpBalanceSuccess").balance.available?.amount,
      ).toBe("2.000000");
    }
    expect(resultOfType(await topUpAs(manager.token, { accountId: sub.id, amount: "3" }), "TopUpBalanceSuccess").balance.available?.amount).toBe("5.000000");
    expect(resultOfType(await topUpAs(OPERATOR_TOKEN, { accountId: sub.id, amount: "1" }), "TopUpBalanceSuccess").balance.available?.amount).toBe("6.000000");
    expect((await balanceOf(manager.token, manager.id))?.available?.amount).toBe("0.000000");
    await expectInvariants([manager.id, sub.id]);
  });

  it("refuses a rollup sub-account (no balance of its own) with ValidationError", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager, { rollupBilling: true });
    for (const token of [manager.token, sub.token]) {
      const r = result(await topUpAs(token, { accountId: sub.id, amount: "1" }));
      expect(r).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["accountId"] }] });
    }
  });

  it.each([["1e3"], ["NaN"], ["-1"], ["0.0000001"], [""], [" 1"], ["0"], ["1000000.000001"]])("refuses the amount %j with a field error", async (amount) => {
    const manager = await createManager();
    const r = result(await topUpAs(manager.token, { accountId: manager.id, amount }));
    expect(r).toMatchObject({ __typename: "ValidationError", code: "VALIDATION", fieldErrors: [{ path: ["amount"] }] });
    expect((await balanceOf(manager.token, manager.id))?.available?.amount).toBe("0.000000");
  });

  it("accepts 5 top-ups in 24 hours, then RateLimitedError with retryAfterSeconds; replays do not count", async () => {
    const manager = await createManager();
    for (let i = 0; i < 5; i++) result(await topUpAs(manager.token, { accountId: manager.id, amount: "1", idempotencyKey: `k${i}` }));
    // A replay of an earlier top-up still answers its first result.
    expect(result(await topUpAs(manager.token, { accountId: manager.id, amount: "1", idempotencyKey: "k0" })).__typename).toBe("TopUpBalanceSuccess");
    const limited = resultOfType(await topUpAs(OPERATOR_TOKEN, { accountId: manager.id, amount: "1", idempotencyKey: "k5" }), "RateLimitedError");
    expect(limited).toMatchObject({ __typename: "RateLimitedError", code: "RATE_LIMITED" });
    expect(limited.retryAfterSeconds).toBeGreaterThan(86_000);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(86_400);
    expect((await balanceOf(manager.token, manager.id))?.available?.amount).toBe("5.000000");
    // The limit is per account: a sub-account's own balance has its own.
    const sub = await createSubAccount(manager);
    expect(result(await topUpAs(manager.token, { accountId: sub.id, amount: "1" })).__typename).toBe("TopUpBalanceSuccess");
    await expectInvariants([manager.id, sub.id]);
  });

  it("replays the same key and amount once, and refuses another amount under it", async () => {
    const manager = await createManager();
    const input = { accountId: manager.id, amount: "7", idempotencyKey: "pay-1" };
    const a = resultOfType(await gql(TOP_UP_ENTRY, { token: manager.token, variables: { input } }), "TopUpBalanceSuccess");
    const b = resultOfType(await gql(TOP_UP_ENTRY, { token: manager.token, variables: { input: { ...input, amount: "7.000000" } } }), "TopUpBalanceSuccess");
    expect(a.entry).not.toBeNull();
    expect(b.entry?.id).toBe(a.entry!.id);
    expect(b.balance.available?.amount).toBe("7.000000");
    expect(result(await topUpAs(manager.token, { ...input, amount: "8" }))).toMatchObject({ __typename: "IdempotencyConflictError" });
    await expectInvariants([manager.id]);
  });

  it("refuses suspended and closed accounts with AccountNotActiveError", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    await gqlData(graphql(`mutation($id: ID!) { suspendSubAccount(input: { id: $id }) { __typename } }`), { token: manager.token, variables: { id: sub.id } });
    expect(result(await topUpAs(manager.token, { accountId: sub.id, amount: "1" }))).toMatchObject({
      __typename: "AccountNotActiveError",
      status: "SUSPENDED",
    });
    await gqlData(graphql(`mutation($id: ID!) { suspendManager(input: { id: $id }) { __typename } }`), {
      token: OPERATOR_TOKEN,
      variables: { id: manager.id },
    });
    expect(result(await topUpAs(manager.token, { accountId: manager.id, amount: "1" }))).toMatchObject({
      __typename: "AccountNotActiveError",
      status: "SUSPENDED",
    });
    await gqlData(graphql(`mutation($id: ID!) { reactivateManager(input: { id: $id }) { __typename } }`), {
      token: OPERATOR_TOKEN,
      variables: { id: manager.id },
    });
    await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), { token: manager.token, variables: { id: sub.id } });
    expect(result(await topUpAs(manager.token, { accountId: sub.id, amount: "1" }))).toMatchObject({ __typename: "AccountNotActiveError", status: "CLOSED" });
  });
});

describe("transferBalance", () => {
  it("moves funds manager -> sub -> manager and sub -> sibling, with an entry and an audit event on each side", async () => {
    const manager = await createManager();
    const [a, b] = [await createSubAccount(manager), await createSubAccount(manager)];
    await topUp(manager.id, "10");
    const down = resultOfType(await transfer(manager.token, { fromAccountId: manager.id, toAccountId: a.id, amount: "4" }), "TransferBalanceSuccess");
    expect(down.from.available?.amount).toBe("6.000000");
    expect(down.to).toMatchObject({ isSubAccount: true, shared: false, available: { amount: "4.000000" } });
    const across = resultOfType(await transfer(manager.token, { fromAccountId: a.id, toAccountId: b.id, amount: "1.5" }), "TransferBalanceSuccess");
    expect([across.from.available?.amount, across.to.available?.amount]).toEqual(["2.500000", "1.500000"]);
    const up = resultOfType(await transfer(OPERATOR_TOKEN, { fromAccountId: b.id, toAccountId: manager.id, amount: "0.5" }), "TransferBalanceSuccess");
    expect([up.from.available?.amount, up.to.available?.amount]).toEqual(["1.000000", "6.500000"]);

    const ledger = await gqlData(
      graphql(
        `query($id: ID!) { node(id: $id) { ... on Account { balance { ledger { nodes { kind amount { amount } balanceAfter { amount } account { id } } } } } } }`,
      ),
      {
        token: manager.token,
        variables: { id: a.id },
      },
    );
    expect(fieldOf(ledger.node, "balance").ledger.nodes).toEqual([
      { kind: "TRANSFER_OUT", amount: { amount: "-1.500000" }, balanceAfter: { amount: "2.500000" }, account: { id: b.id } },
      { kind: "TRANSFER_IN", amount: { amount: "4.000000" }, balanceAfter: { amount: "4.000000" }, account: { id: manager.id } },
    ]);
    const events = (await auditActions(manager.token, manager.id)).filter((e) => e.action.startsWith("balance.transfer"));
    // Two events per transfer; the pair shares a timestamp, so compare as sets.
    expect(events.map((e) => `${e.action} ${e.account?.id}`).sort()).toEqual(
      [
        ["balance.transferOut", manager.id],
        ["balance.transferIn", a.id],
        ["balance.transferOut", a.id],
        ["balance.transferIn", b.id],
        ["balance.transferOut", b.id],
        ["balance.transferIn", manager.id],
      ]
        .map(([action, id]) => `${action} ${id}`)
        .sort(),
    );
    await expectInvariants([manager.id, a.id, b.id]);
  });

  it("never takes a balance below zero (InsufficientFundsError) and refuses rollup, foreign, closed and same accounts", async () => {
    const manager = await createManager();
    const own = await createSubAccount(manager);
    const rollup = await createSubAccount(manager, { rollupBilling: true });
    const other = await createManager();
    await topUp(manager.id, "1");
    expect(result(await transfer(manager.token, { fromAccountId: manager.id, toAccountId: own.id, amount: "1.000001" }))).toMatchObject({
      __typename: "InsufficientFundsError",
    });
    expect(result(await transfer(manager.token, { fromAccountId: manager.id, toAccountId: rollup.id, amount: "1" }))).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["toAccountId"] }],
    });
    expect(result(await transfer(manager.token, { fromAccountId: manager.id, toAccountId: manager.id, amount: "1" }))).toMatchObject({
      __typename: "ValidationError",
    });
    expect(result(await transfer(manager.token, { fromAccountId: manager.id, toAccountId: other.id, amount: "1" }))).toMatchObject({
      __typename: "NotFoundError",
    });
    // Even an operator moves funds only within one tree.
    expect(result(await transfer(OPERATOR_TOKEN, { fromAccountId: manager.id, toAccountId: other.id, amount: "1" }))).toMatchObject({
      __typename: "ValidationError",
    });
    expect(result(await transfer(manager.token, { fromAccountId: manager.id, toAccountId: own.id, amount: "-1" }))).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["amount"] }],
    });

    // Funds can come back from a closed sub-account, never go into one.
    result(await transfer(manager.token, { fromAccountId: manager.id, toAccountId: own.id, amount: "0.4" }));
    await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), { token: manager.token, variables: { id: own.id } });
    expect(result(await transfer(manager.token, { fromAccountId: manager.id, toAccountId: own.id, amount: "0.1" }))).toMatchObject({
      __typename: "AccountNotActiveError",
      status: "CLOSED",
    });
    expect(
      resultOfType(await transfer(manager.token, { fromAccountId: own.id, toAccountId: manager.id, amount: "0.4" }), "TransferBalanceSuccess").to.available
        ?.amount,
    ).toBe("1.000000");
    await expectInvariants([manager.id, own.id, rollup.id, other.id]);
  });

  it("is for managers and operators: a sub-account is refused (ForbiddenError, or not in its schema)", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    await topUp(sub.id, "1");
    expect(refusedForRole(await transfer(sub.token, { fromAccountId: sub.id, toAccountId: manager.id, amount: "1" }))).toBe(true);
    expect((await balanceOf(sub.token, sub.id))?.available?.amount).toBe("1.000000");
  });

  it("replays the same key once and refuses another input under it", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    await topUp(manager.id, "10");
    const input = { fromAccountId: manager.id, toAccountId: sub.id, amount: "2", idempotencyKey: "move-1" };
    result(await transfer(manager.token, input));
    const replay = resultOfType(await transfer(manager.token, input), "TransferBalanceSuccess");
    expect([replay.from.available?.amount, replay.to.available?.amount]).toEqual(["8.000000", "2.000000"]);
    expect(result(await transfer(manager.token, { ...input, amount: "3" }))).toMatchObject({ __typename: "IdempotencyConflictError" });
    expect(result(await transfer(manager.token, { ...input, fromAccountId: sub.id, toAccountId: manager.id }))).toMatchObject({
      __typename: "IdempotencyConflictError",
    });
    await expectInvariants([manager.id, sub.id]);
  });
});
