// The billing authorization matrix: every role (operator, manager, foreign
// manager, sub-account, sibling, anonymous) on every billing path. Rows out of
// reach look missing; prices and per-record costs never reach a sub-account.
import { beforeAll, describe, expect, it } from "vitest";
import { type GqlResponse, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, type Product, setAccountPricing, type TestAccount, topUp, unique } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import {
  fieldOf,
  nodeWith,
  recordUsage,
  refusedForRole,
  result,
  resultOfType,
  SET_PLATFORM_PRICING,
  SET_PRICING,
  topUpAs,
  transfer,
  withheld,
} from "./operations.js";

// A distinctive price, so any leak of it (or of a per-record cost) shows in a response.
const PRICE = "0.012345";
const RECORD_COSTS = ["0.024690", "0.037035"]; // 2 and 3 units
const TOTAL = "0.061725";

let manager: TestAccount, otherManager: TestAccount, sub: TestAccount, sibling: TestAccount, otherSub: TestAccount;
let roles: Record<string, string | null>;
let ledgerIds: string[];
let usageIds: string[];

beforeAll(async () => {
  manager = await createManager();
  otherManager = await createManager();
  await setAccountPricing(manager.id, { SMS_OUTBOUND: PRICE });
  [sub, sibling] = await Promise.all([createSubAccount(manager, { rollupBilling: true, allowCustomPricing: true }), createSubAccount(manager)]);
  otherSub = await createSubAccount(otherManager);
  await topUp(manager.id, "10");
  await topUp(sibling.id, "1", manager.token);
  usageIds = [];
  for (const quantity of [2, 3])
    usageIds.push(resultOfType(await recordUsage(sub.token, { accountId: sub.id, quantity }), "RecordUsageSuccess").usageRecord.id);
  const ledger = await gqlData(graphql(`query($id: ID!) { node(id: $id) { ... on Account { balance { ledger { nodes { id } } } } } }`), {
    token: manager.token,
    variables: { id: sub.id },
  });
  ledgerIds = fieldOf(ledger.node, "balance").ledger.nodes.map((n) => n.id);
  roles = { operator: OPERATOR_TOKEN, manager: manager.token, otherManager: otherManager.token, sub: sub.token, sibling: sibling.token };
});

const NODE = graphql(`query($id: ID!) { node(id: $id) { __typename id } }`);
const nodeAs = async (token: string | null, id: string) => (await gqlData(NODE, { token, variables: { id } })).node;

describe("reading billing data", () => {
  it("node(ledgerEntry) is reachable for the operator and the manager only; null for everyone else", async () => {
    expect(ledgerIds).toHaveLength(2);
    const visible: Record<string, boolean> = { operator: true, manager: true, otherManager: false, sub: false, sibling: false };
    for (const [role, ok] of Object.entries(visible)) {
      expect(await nodeAs(roles[role]!, ledgerIds[0]!), role).toEqual(ok ? { __typename: "LedgerEntry", id: ledgerIds[0] } : null);
    }
    const many = await gql(graphql(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`), { token: sub.token, variables: { ids: ledgerIds } });
    expect(many.body).toEqual({ data: { nodes: [null, null] } });
  });

  it("node(usageRecord) is reachable for its own account, the manager and the operator; null for sibling and foreign manager", async () => {
    const visible: Record<string, boolean> = { operator: true, manager: true, otherManager: false, sub: true, sibling: false };
    for (const [role, ok] of Object.entries(visible)) {
      expect(await nodeAs(roles[role]!, usageIds[0]!), role).toEqual(ok ? { __typename: "UsageRecord", id: usageIds[0] } : null);
    }
  });

  it("balances follow the account row rules: null where the account is out of reach", async () => {
    const q = graphql(`query($id: ID!) { node(id: $id) { ... on Account { balance { totalSpent { amount } } } } }`);
    const expected: Record<string, Record<string, boolean>> = {
      operator: { manager: true, sub: true, sibling: true, otherSub: true },
      manager: { manager: true, sub: true, sibling: true, otherSub: false },
      otherManager: { manager: false, sub: false, sibling: false, otherSub: true },
      sub: { manager: false, sub: true, sibling: false, otherSub: false },
      sibling: { manager: false, sub: false, sibling: true, otherSub: false },
    };
    const accounts: Record<string, TestAccount> = { manager, sub, sibling, otherSub };
    for (const [role, targets] of Object.entries(expected)) {
      for (const [target, ok] of Object.entries(targets)) {
        const node = (await gqlData(q, { token: roles[role]!, variables: { id: accounts[target]!.id } })).node;
        expect(node === null, `${role} -> ${target}`).toBe(!ok);
      }
    }
  });

  it.each(["operator", "manager"])("the %s reads prices, costs and ledgers on every path", async (role) => {
    const res = await gql(
      graphql(`query($sub: ID!, $manager: ID!) { s: node(id: $sub) { ... on SubAccount { pricing { source rates { unitPrice { amount } } }
        balance { available { amount } ledger { totalCount nodes { amount { amount } } } }
        usageRecords { nodes { cost { amount } } } usageSummary(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { totalCost { amount } lines { cost { amount } } } } }
        m: node(id: $manager) { ... on Manager { pricing { source } } } }`),
      { token: roles[role]!, variables: { sub: sub.id, manager: manager.id } },
    );
    expect(res.body.errors).toBeUndefined();
    const s = nodeWith(res.body.data?.s, "pricing");
    expect(s.pricing?.source).toBe("INHERITED_FROM_MANAGER");
    expect(s.pricing?.rates[0]?.unitPrice.amount).toBe(PRICE);
    expect(s.balance.ledger.totalCount).toBe(2);
    expect(s.usageRecords.nodes.map((n) => n.cost?.amount).sort()).toEqual(RECORD_COSTS);
    expect(s.usageSummary.totalCost?.amount).toBe(TOTAL);
    expect(fieldOf(res.body.data?.m, "pricing").source).toBe("MANAGER_NEGOTIATED");
  });

  it("no path gives a sub-account a price, a per-record cost or a ledger entry: fields, aliases, fragments, nesting, node", async () => {
    const paths = [
      `{ viewer { account { ... on SubAccount { pricing { source rates { unitPrice { amount } } } } } } }`,
      `{ viewer { account { ... on SubAccount { a: pricing { rates { unitPrice { amount } } } b: pricing { source } } } } }`,
      `fragment P on PriceList { rates { product unitPrice { amount } } } { viewer { account { ... on SubAccount { pricing { ...P } } } } }`,
      `{ viewer { account { usageRecords { nodes { quantity cost { amount } c2: cost { amount } } } } } }`,
      `fragment U on UsageRecord { cost { amount } } { viewer { account { usageRecords { nodes { ...U account { usageRecords { nodes { ...U } } } } } } } }`,
      `{ viewer { account { usageSummary(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { lines { quantity cost { amount } } totalCost { amount } } } } }`,
      `{ viewer { account { balance { ledger { nodes { amount { amount } balanceAfter { amount } } } } } } }`,
      `{ viewer { account { balance { l: ledger(first: 1) { totalCount } } } } }`,
      `{ viewer { account { ... on SubAccount { manager { pricing { rates { unitPrice { amount } } } balance { available { amount } } } } } } }`,
      `query($id: ID!) { node(id: $id) { ... on UsageRecord { cost { amount } account { ... on SubAccount { pricing { source } } } } } }`,
      `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on LedgerEntry { amount { amount } usageRecord { cost { amount } } } } }`,
    ];
    for (const query of paths) {
      const res = await gql(query, { token: sub.token, variables: { id: usageIds[0], ids: [...ledgerIds, ...usageIds] } });
      const text = JSON.stringify(res.body.data ?? null);
      for (const secret of [PRICE, ...RECORD_COSTS]) expect(text, query).not.toContain(secret);
      expect(text, query).not.toContain("LedgerEntry");
      // Anything withheld is said so (null with FORBIDDEN, or the field is not in the
      // sub-account's schema and the request fails validation), never a silent zero.
      expect(withheld(res), query).toBe(true);
    }
  });

  it("a sub-account still sees its own aggregates and quantities; on a shared balance its available is null", async () => {
    const res = await gql(
      graphql(`{ viewer { account { balance { isSubAccount shared available { amount } totalSpent { amount } creditLimit { amount } remainingCredit { amount } }
        usageRecords { totalCount nodes { quantity product } }
        usageSummary(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { lines { product quantity records } } } } }`),
      { token: sub.token },
    );
    expect(res.body.errors).toBeUndefined();
    const account = res.body.data?.viewer.account;
    if (!account) throw new Error(`no account for the sub-account's viewer: ${JSON.stringify(res.body)}`);
    expect(account.balance).toEqual({
      isSubAccount: true,
      shared: true,
      available: null,
      totalSpent: { amount: TOTAL },
      creditLimit: null,
      remainingCredit: null,
    });
    expect(account.usageRecords.totalCount).toBe(2);
    expect(account.usageSummary.lines).toEqual([{ product: "SMS_OUTBOUND", quantity: 5, records: 2 }]);
    // With a balance of its own, it sees its funds.
    const own = await gqlData(graphql(`{ viewer { account { balance { shared available { amount } } } } }`), { token: sibling.token });
    expect(own.viewer.account?.balance).toEqual({
      shared: false,
      available: { amount: "1.000000" },
    });
  });
});

describe("billing mutations", () => {
  // "Forbidden": a ForbiddenError result, or the operation is not in the caller's (role-scoped) schema.
  const outcome = async <R extends Record<string, { __typename: string }>>(res: GqlResponse<R>) =>
    res.status === 401 ? "401" : refusedForRole(res) ? "Forbidden" : result(res).__typename;

  it("recordUsage and topUpBalance: the account itself, its manager, the operator; NotFound for anyone else, 401 anonymous", async () => {
    // "reached": the mutation ran on the account (a charge, or a refusal for lack of funds).
    const expected: Record<string, Record<string, string>> = {
      operator: { sub: "reached", sibling: "reached", otherSub: "reached" },
      manager: { sub: "reached", sibling: "reached", otherSub: "NotFoundError" },
      otherManager: { sub: "NotFoundError", sibling: "NotFoundError", otherSub: "reached" },
      sub: { sub: "reached", sibling: "NotFoundError", otherSub: "NotFoundError" },
      sibling: { sub: "NotFoundError", sibling: "reached", otherSub: "NotFoundError" },
      anonymous: { sub: "401", sibling: "401", otherSub: "401" },
    };
    const accounts: Record<string, TestAccount> = { sub, sibling, otherSub };
    const reached = (typename: string) => (["RecordUsageSuccess", "InsufficientFundsError"].includes(typename) ? "reached" : typename);
    for (const [role, targets] of Object.entries(expected)) {
      for (const [target, want] of Object.entries(targets)) {
        const token = role === "anonymous" ? null : roles[role]!;
        expect(reached(await outcome(await recordUsage(token, { accountId: accounts[target]!.id }))), `${role} recordUsage ${target}`).toBe(want);
        // `sub` has rollup billing: no balance of its own to top up.
        const topUpWant = want === "reached" ? (target === "sub" ? "ValidationError" : "TopUpBalanceSuccess") : want;
        expect(await outcome(await topUpAs(token, { accountId: accounts[target]!.id, amount: "0.01" })), `${role} topUp ${target}`).toBe(topUpWant);
      }
    }
  });

  it("transferBalance: the manager and the operator; forbidden for sub-accounts, NotFound for a foreign manager, 401 anonymous", async () => {
    const input = () => ({ fromAccountId: sibling.id, toAccountId: manager.id, amount: "0.01", idempotencyKey: unique("t") });
    expect(await outcome(await transfer(OPERATOR_TOKEN, input()))).toBe("TransferBalanceSuccess");
    expect(await outcome(await transfer(manager.token, input()))).toBe("TransferBalanceSuccess");
    expect(await outcome(await transfer(otherManager.token, input()))).toBe("NotFoundError");
    expect(await outcome(await transfer(sibling.token, input()))).toBe("Forbidden");
    expect(await outcome(await transfer(sub.token, input()))).toBe("Forbidden");
    expect(await outcome(await transfer(null, input()))).toBe("401");
  });

  it("setAccountPricing and setPlatformPricing: operators only", async () => {
    const rates: { product: Product; unitPrice: string }[] = [{ product: "SMS_INBOUND", unitPrice: "0.002" }];
    for (const role of ["manager", "otherManager", "sub", "sibling", "anonymous"]) {
      const token = role === "anonymous" ? null : roles[role]!;
      for (const accountId of [manager.id, sub.id]) {
        const res = await gql(SET_PRICING, { token, variables: { input: { accountId, rates } } });
        expect(await outcome(res), `${role} setAccountPricing`).toBe(role === "anonymous" ? "401" : "Forbidden");
      }
      const platform = await gql(SET_PLATFORM_PRICING, { token, variables: { input: { rates } } });
      expect(await outcome(platform), `${role} setPlatformPricing`).toBe(role === "anonymous" ? "401" : "Forbidden");
    }
    expect(await outcome(await gql(SET_PRICING, { token: OPERATOR_TOKEN, variables: { input: { accountId: sub.id, rates } } }))).toBe("SetPricingSuccess");
  });
});
