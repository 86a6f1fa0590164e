// DOMAIN.md "Events and webhooks": every audited change writes an event in
// its own transaction (also purges and credit-limit refusals); events obey
// the row rules of their account on every path (Account.events, node, nodes,
// cursors, totalCount), and their data the reader's field rules (a
// sub-account's events carry no price, cost, ledger entry, counterparty or
// manager's key prefix). The matrix: operator, manager, foreign manager,
// sub-account, sibling.
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { deleteExpiredEvents, purgeClosedSubAccounts } from "../../src/services/purge.js";
import { countStatements, errorCodes, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, createWorld, provisionNumber, setAccountPricing, topUp, unique, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";

const EVENTS = graphql(`query($id: ID!, $types: [EventType!], $first: Int, $after: String) { node(id: $id) { ... on Account {
  events(first: $first, types: $types, after: $after) { totalCount pageInfo { endCursor } nodes { id type occurredAt data account { id } } } } } }`);
const EVENT_NODE = graphql(`query($id: ID!) { node(id: $id) { __typename ... on Event { id type data account { id } } } }`);
const EVENT_NODES = graphql(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on Event { id } } }`);

type EventRow = { id: string; type: string; occurredAt: string; data: Record<string, unknown>; account: { id: string } | null };

async function eventsOf(accountId: string, token: string, types?: string[]): Promise<{ totalCount: number; nodes: EventRow[] }> {
  const { node } = await gqlData(EVENTS, { token, variables: { id: accountId, types: types as never, first: 250 } });
  if (!node || !("events" in node)) throw new Error(`account ${accountId} is out of reach`);
  return node.events as never;
}

const RECORD_USAGE = graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename ... on Error { code } } }`);
const charge = (token: string, accountId: string, quantity = 1) =>
  gqlData(RECORD_USAGE, { token, variables: { input: { accountId, product: "SMS_OUTBOUND", quantity, idempotencyKey: unique("ev") } } });

/** Every key anywhere in a JSON value. */
function keysIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysIn);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...keysIn(v)]);
  return [];
}
/** What a sub-account must never find in an event's data (DOMAIN.md's field rules). */
const PRIVILEGED_KEYS = ["unitPrice", "cost", "rates", "ledgerEntryId", "counterparty", "from", "charge"];

let w: World;
let prefixOfManager: string;
beforeAll(async () => {
  w = await createWorld();
  prefixOfManager = w.manager.token.slice(0, 12);
  await setAccountPricing(w.manager.id, { SMS_OUTBOUND: "0.01", PHONE_NUMBER_MONTHLY: "1.25" });
  await topUp(w.sub.id, "20", w.manager.token);
  await topUp(w.manager.id, "50");
  await provisionNumber(w.manager.token, w.sub.id);
  expect((await charge(w.sub.token, w.sub.id, 3)).recordUsage.__typename).toBe("RecordUsageSuccess");
  await gqlData(graphql(`mutation($input: TransferBalanceInput!) { transferBalance(input: $input) { __typename ... on Error { code message } } }`), {
    token: w.manager.token,
    variables: { input: { fromAccountId: w.manager.id, toAccountId: w.sub.id, amount: "2", idempotencyKey: unique("t") } },
  });
  await gqlData(graphql(`mutation($id: ID!) { suspendSubAccount(input: { id: $id }) { __typename } }`), {
    token: w.manager.token,
    variables: { id: w.sibling.id },
  });
});

describe("the event log", () => {
  it("writes one event per audited change, in the change's own transaction, with the objects as they were", async () => {
    const sub = await eventsOf(w.sub.id, OPERATOR_TOKEN);
    const types = sub.nodes.map((e) => e.type);
    for (const type of ["SUB_ACCOUNT_CREATED", "BALANCE_TOPPED_UP", "PHONE_NUMBER_PROVISIONED", "USAGE_RECORDED", "BALANCE_TRANSFERRED"]) {
      expect(types, type).toContain(type);
    }
    // One event per audit event of the account, no more, no fewer.
    const audited = await prisma.auditEvent.count({ where: { accountId: dbId(w.sub.id) } });
    expect(sub.totalCount).toBe(audited);
    const usage = sub.nodes.find((e) => e.type === "USAGE_RECORDED")!;
    expect(usage.account).toEqual({ id: w.sub.id });
    expect(usage.data).toMatchObject({
      usageRecord: { product: "SMS_OUTBOUND", quantity: 3 },
      unitPrice: { amount: "0.010000", currency: "USD" },
      cost: { amount: "0.030000", currency: "USD" },
      actor: { role: "SUB_ACCOUNT", apiKeyPrefix: w.sub.token.slice(0, 12) },
    });
    const created = sub.nodes.find((e) => e.type === "SUB_ACCOUNT_CREATED")!;
    expect(created.data).toMatchObject({ subAccount: { id: w.sub.id, status: "ACTIVE" }, actor: { role: "MANAGER", apiKeyPrefix: prefixOfManager } });
  });

  it("shows a sub-account its own events only, without prices, costs, ledger entries, counterparties or its manager's key prefixes", async () => {
    const own = await eventsOf(w.sub.id, w.sub.token);
    const seenByOperator = await eventsOf(w.sub.id, OPERATOR_TOKEN);
    expect(own.totalCount).toBe(seenByOperator.totalCount);
    expect(own.nodes.map((e) => e.id)).toEqual(seenByOperator.nodes.map((e) => e.id));
    for (const event of own.nodes) {
      expect(event.account).toEqual({ id: w.sub.id });
      for (const key of PRIVILEGED_KEYS) expect(keysIn(event.data), `${event.type} shows ${key}`).not.toContain(key);
      const actor = event.data.actor as { role: string; apiKeyPrefix: string | null };
      if (actor.role !== "SUB_ACCOUNT") expect(actor.apiKeyPrefix).toBeNull();
    }
    const transfer = own.nodes.find((e) => e.type === "BALANCE_TRANSFERRED")!;
    expect(transfer.data).toMatchObject({ direction: "IN", amount: { amount: "2.000000" } });
  });

  it("gives a manager its whole tree, and nothing of another tree to a foreign manager", async () => {
    const tree = await eventsOf(w.manager.id, w.manager.token);
    const about = new Set(tree.nodes.map((e) => e.account?.id));
    expect(about).toEqual(new Set([w.manager.id, w.sub.id, w.sibling.id]));
    expect(tree.nodes.find((e) => e.type === "SUB_ACCOUNT_SUSPENDED")?.account).toEqual({ id: w.sibling.id });
    // The privileged parts are there for the manager.
    const usage = tree.nodes.find((e) => e.type === "USAGE_RECORDED")!;
    expect(usage.data).toHaveProperty("cost");
    const foreign = await eventsOf(w.otherManager.id, w.otherManager.token);
    expect(foreign.nodes.some((e) => tree.nodes.some((t) => t.id === e.id))).toBe(false);
    expect(new Set(foreign.nodes.map((e) => e.account?.id))).toEqual(new Set([w.otherManager.id, w.otherSub.id]));
  });

  it("answers node and nodes by the same row rules: null for a sibling, a foreign manager and a foreign sub-account", async () => {
    const ids = (await eventsOf(w.sub.id, OPERATOR_TOKEN)).nodes.map((e) => e.id);
    const readers = {
      operator: OPERATOR_TOKEN,
      manager: w.manager.token,
      sub: w.sub.token,
      sibling: w.sibling.token,
      otherManager: w.otherManager.token,
      otherSub: w.otherSub.token,
    };
    const expected = { operator: true, manager: true, sub: true, sibling: false, otherManager: false, otherSub: false };
    for (const [who, token] of Object.entries(readers)) {
      const reach = expected[who as keyof typeof expected];
      const { node } = await gqlData(EVENT_NODE, { token, variables: { id: ids[0]! } });
      expect(node === null, who).toBe(!reach);
      const { nodes } = await gqlData(EVENT_NODES, { token, variables: { ids } });
      expect(
        nodes.every((n) => (reach ? n !== null : n === null)),
        who,
      ).toBe(true);
      if (node && "data" in node && who === "sub") for (const key of PRIVILEGED_KEYS) expect(keysIn(node.data)).not.toContain(key);
    }
    // A sibling's own list: none of them, and the count agrees.
    const sibling = await eventsOf(w.sibling.id, w.sibling.token);
    expect(sibling.nodes.some((e) => ids.includes(e.id))).toBe(false);
    expect(sibling.totalCount).toBe(sibling.nodes.length);
  });

  it("refuses a cursor naming another tree's event, like any cursor out of reach", async () => {
    // The newest event about `sub` (the sibling's own events would be good cursors for it).
    const mine = await gqlData(EVENTS, { token: w.manager.token, variables: { id: w.sub.id, first: 1 } });
    const cursor = mine.node && "events" in mine.node ? mine.node.events.pageInfo.endCursor : null;
    expect(cursor).toBeTruthy();
    const res = await gql(EVENTS, { token: w.otherManager.token, variables: { id: w.otherManager.id, first: 5, after: cursor } });
    expect(errorCodes(res), JSON.stringify(res.body)).toEqual(["BAD_USER_INPUT"]);
    const sibling = await gql(EVENTS, { token: w.sibling.token, variables: { id: w.sibling.id, first: 5, after: cursor } });
    expect(errorCodes(sibling)).toEqual(["BAD_USER_INPUT"]);
  });

  it("filters by type, and pages newest first", async () => {
    const usage = await eventsOf(w.manager.id, w.manager.token, ["USAGE_RECORDED", "BALANCE_TOPPED_UP"]);
    expect(new Set(usage.nodes.map((e) => e.type))).toEqual(new Set(["USAGE_RECORDED", "BALANCE_TOPPED_UP"]));
    expect(usage.totalCount).toBe(usage.nodes.length);
    const all = await eventsOf(w.manager.id, w.manager.token, []);
    expect(all.totalCount).toBe((await eventsOf(w.manager.id, w.manager.token)).totalCount);
    const times = all.nodes.map((e) => Date.parse(e.occurredAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("writes nothing for a refused change, except the credit limit's refusal, which is an event of its own", async () => {
    const manager = await createManager();
    await setAccountPricing(manager.id, { SMS_OUTBOUND: "1" });
    const sub = await createSubAccount(manager, { creditLimit: "2" });
    await topUp(sub.id, "10", manager.token);
    const before = await eventsOf(sub.id, OPERATOR_TOKEN);
    // Over the limit: refused, one CREDIT_LIMIT_REACHED event with refused: true.
    expect((await charge(sub.token, sub.id, 3)).recordUsage).toEqual({ __typename: "CreditLimitExceededError", code: "CREDIT_LIMIT_EXCEEDED" });
    let after = await eventsOf(sub.id, sub.token);
    expect(after.totalCount).toBe(before.totalCount + 1);
    expect(after.nodes[0]).toMatchObject({
      type: "CREDIT_LIMIT_REACHED",
      data: { refused: true, creditLimit: { amount: "2.000000" }, totalSpent: { amount: "0.000000" } },
    });
    // Reaching it exactly: the charge's event and the limit's, in one transaction.
    expect((await charge(sub.token, sub.id, 2)).recordUsage.__typename).toBe("RecordUsageSuccess");
    after = await eventsOf(sub.id, sub.token);
    expect(
      after.nodes
        .slice(0, 2)
        .map((e) => e.type)
        .sort(),
    ).toEqual(["CREDIT_LIMIT_REACHED", "USAGE_RECORDED"]);
    expect(after.nodes.find((e) => e.type === "CREDIT_LIMIT_REACHED" && e.data.refused === false)?.data).toMatchObject({ totalSpent: { amount: "2.000000" } });
    // No funds: refused, nothing written.
    const poor = await createSubAccount(manager);
    const poorBefore = (await eventsOf(poor.id, OPERATOR_TOKEN)).totalCount;
    expect((await charge(poor.token, poor.id, 1)).recordUsage.__typename).toBe("InsufficientFundsError");
    expect((await eventsOf(poor.id, OPERATOR_TOKEN)).totalCount).toBe(poorBefore);
  });

  it("records a purge in the manager's tree, with the account gone", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), { token: manager.token, variables: { id: sub.id } });
    await prisma.account.update({ where: { id: dbId(sub.id) }, data: { closedAt: new Date(Date.now() - 31 * 24 * 3600 * 1000) } });
    expect((await purgeClosedSubAccounts()).purged).toBeGreaterThanOrEqual(1);
    const tree = await eventsOf(manager.id, manager.token);
    const purged = tree.nodes.filter((e) => e.type === "SUB_ACCOUNT_PURGED");
    expect(purged).toHaveLength(1);
    expect(purged[0]).toMatchObject({ account: null, data: { subAccount: { id: sub.id, status: "CLOSED" }, actor: null } });
    // The sub-account's earlier events stay in the tree too, their account null.
    expect(tree.nodes.filter((e) => e.account === null).map((e) => e.type)).toEqual(expect.arrayContaining(["SUB_ACCOUNT_CLOSED", "SUB_ACCOUNT_CREATED"]));
  });

  it("keeps events 30 days: the cleanup deletes older ones only", async () => {
    const manager = await createManager();
    const events = await prisma.event.findMany({ where: { treeManagerId: dbId(manager.id) }, select: { id: true } });
    expect(events.length).toBeGreaterThan(0);
    const [old, recent] = [
      events[0]!.id,
      await prisma.event.create({
        data: { type: "MANAGER_UPDATED", accountId: dbId(manager.id), treeManagerId: dbId(manager.id), data: {}, privilegedData: {} },
      }),
    ];
    await prisma.event.update({ where: { id: old }, data: { occurredAt: new Date(Date.now() - 31 * 24 * 3600 * 1000) } });
    await prisma.event.update({ where: { id: recent.id }, data: { occurredAt: new Date(Date.now() - 29 * 24 * 3600 * 1000) } });
    const { deleted } = await deleteExpiredEvents();
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await prisma.event.findUnique({ where: { id: old } })).toBeNull();
    expect(await prisma.event.findUnique({ where: { id: recent.id } })).not.toBeNull();
  });

  it("reads a page of a tree's events in a constant number of statements", async () => {
    const small = await createManager();
    const big = await createManager();
    await Promise.all(Array.from({ length: 20 }, () => createSubAccount(big)));
    const read = (m: typeof small) => countStatements(() => eventsOf(m.id, m.token));
    // Each key's first request also records its first use: not what is counted here.
    await read(small);
    await read(big);
    const [a, b] = [await read(small), await read(big)];
    expect(b.result.totalCount).toBeGreaterThan(20);
    expect(b.statements).toBe(a.statements);
  });
});
