// A hostile tester's matrix: every node type and every mutation input id,
// named by a sub-account, its sibling and a foreign manager. An unreachable
// row must answer byte for byte like a row that never existed.

import type { TadaDocumentNode } from "gql.tada";
import { beforeAll, describe, expect, it } from "vitest";
import { type GqlResponse, gql, gqlData } from "../helpers/app.js";
import { createWorld, provisionNumber, topUp, unique, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { missingLike } from "../helpers/ids.js";

/** The only item of a list the test expects to hold at least one. */
function firstOf<T>(items: readonly T[], what: string): T {
  const [item] = items;
  if (item === undefined) throw new Error(`no ${what}`);
  return item;
}

type IdKind = "Manager" | "SubAccount" | "ApiKey" | "ManagerApiKey" | "PhoneNumber" | "UsageRecord" | "LedgerEntry" | "AuditEvent" | "ManagerAuditEvent";

let w: World;
/** One row of each kind, of the sub-account's tree; set before the tests run. */
let ids: Record<IdKind, string>;

beforeAll(async () => {
  w = await createWorld();
  await topUp(w.manager.id, "10");
  await topUp(w.sub.id, "10", w.manager.token);
  const number = await provisionNumber(w.sub.token, w.sub.id);
  const usage = await gqlData(
    graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename ... on RecordUsageSuccess { usageRecord { id } } } }`),
    { token: w.sub.token, variables: { input: { accountId: w.sub.id, product: "SMS_OUTBOUND", quantity: 2, idempotencyKey: unique("u") } } },
  );
  const tree = await gqlData(
    graphql(`query($id: ID!) { node(id: $id) { ... on SubAccount { balance { ledger { nodes { id } } } auditEvents { nodes { id } } } } }`),
    {
      token: w.manager.token,
      variables: { id: w.sub.id },
    },
  );
  const mgrEvents = await gqlData(graphql(`{ viewer { account { auditEvents(first: 50) { nodes { id account { id } } } } } }`), { token: w.manager.token });
  const recorded = usage.recordUsage;
  if (recorded.__typename !== "RecordUsageSuccess") throw new Error(`recordUsage: ${recorded.__typename}`);
  if (!tree.node || !("balance" in tree.node)) throw new Error("the sub-account is out of its manager's reach");
  if (!mgrEvents.viewer.account) throw new Error("the manager's key has no account");
  const managerEvent = mgrEvents.viewer.account.auditEvents.nodes.find((e) => e.account?.id === w.manager.id);
  if (!managerEvent) throw new Error("no audit event about the manager");
  ids = {
    Manager: w.manager.id,
    SubAccount: w.sub.id,
    ApiKey: w.sub.keyId,
    ManagerApiKey: w.manager.keyId,
    PhoneNumber: number.id,
    UsageRecord: recorded.usageRecord.id,
    LedgerEntry: firstOf(tree.node.balance.ledger.nodes, "ledger entry").id,
    AuditEvent: firstOf(tree.node.auditEvents.nodes, "audit event").id,
    ManagerAuditEvent: managerEvent.id,
  };
});

const NODE = graphql(`query($id: ID!) { node(id: $id) { __typename id } }`);
const NODES = graphql(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`);

describe("node and nodes: every type, every outsider", () => {
  it("the sub-account's own rows, its manager's rows: unreachable for sibling, foreign manager, foreign sub; same body as a missing id", async () => {
    const outsiders = () => ({ sibling: w.sibling.token, otherManager: w.otherManager.token, otherSub: w.otherSub.token });
    for (const [label, id] of Object.entries(ids)) {
      for (const [who, token] of Object.entries(outsiders())) {
        if (who === "sibling" && (label === "Manager" || label === "ManagerApiKey" || label === "ManagerAuditEvent")) continue;
        const res = await gql(NODE, { token, variables: { id } });
        const missing = await gql(NODE, { token, variables: { id: missingLike(id) } });
        expect(res.body, `${who} -> node(${label})`).toEqual({ data: { node: null } });
        expect(res.body, `${who} -> node(${label}) vs missing`).toEqual(missing.body);
      }
    }
  });

  it("a sub-account reaches none of its manager's rows (account, key, audit event) nor its own ledger entries", async () => {
    for (const label of ["Manager", "ManagerApiKey", "ManagerAuditEvent", "LedgerEntry"] as const) {
      const res = await gql(NODE, { token: w.sub.token, variables: { id: ids[label] } });
      expect(res.body, label).toEqual({ data: { node: null } });
    }
    const res = await gql(NODES, {
      token: w.sub.token,
      variables: { ids: [ids.Manager, ids.ManagerApiKey, ids.LedgerEntry, ids.ManagerAuditEvent, ids.AuditEvent] },
    });
    expect(res.body).toEqual({ data: { nodes: [null, null, null, null, { __typename: "AuditEvent", id: ids.AuditEvent }] } });
  });

  it("nested relations from the sub-account's own rows lead only back to itself", async () => {
    const res = await gql(
      graphql(`query($ids: [ID!]!) { nodes(ids: $ids) {
        ... on PhoneNumber { account { id } } ... on ApiKey { account { id } } ... on UsageRecord { account { id } } ... on AuditEvent { eventAccount: account { id } } } }`),
      { token: w.sub.token, variables: { ids: [ids.PhoneNumber, ids.ApiKey, ids.UsageRecord, ids.AuditEvent] } },
    );
    expect(res.body.errors, JSON.stringify(res.body)).toBeUndefined();
    expect(res.body.data?.nodes).toEqual([...Array(3).fill({ account: { id: w.sub.id } }), { eventAccount: { id: w.sub.id } }]);
  });

  it("SubAccount.auditEvents as the sub-account: only events about itself, counted without the rest of the tree", async () => {
    const data = await gqlData(graphql(`{ viewer { account { auditEvents(first: 100) { totalCount nodes { account { id } } } } } }`), { token: w.sub.token });
    expect(data.viewer.account).not.toBeNull();
    const events = data.viewer.account!.auditEvents;
    expect(events.nodes.length).toBe(events.totalCount);
    for (const e of events.nodes) expect(e.account).toEqual({ id: w.sub.id });
  });

  it("Manager.auditEvents of one tree never lists or counts the other tree's events", async () => {
    const data = await gqlData(graphql(`{ viewer { account { auditEvents(first: 100) { totalCount nodes { id account { id } } } } } }`), {
      token: w.otherManager.token,
    });
    expect(data.viewer.account).not.toBeNull();
    const events = data.viewer.account!.auditEvents;
    expect(events.nodes.length).toBe(events.totalCount);
    const own = new Set([w.otherManager.id, w.otherSub.id]);
    for (const e of events.nodes) expect(own.has(e.account?.id ?? "(purged)")).toBe(true);
    expect(events.nodes.map((e) => e.id)).not.toContain(ids.AuditEvent);
  });
});

// Each mutation, with the sub-account's (or manager's) row named in each id input.
/** One mutation of the matrix: its document (typed by the schema), the input naming `id`, and which ids it takes. */
function mutation<R extends { r: { __typename: string } }, I>(
  name: string,
  query: TadaDocumentNode<R, { input: I }>,
  input: (id: string) => I,
  idKind: IdKind[],
): { name: string; run: (token: string, id: string) => Promise<GqlResponse<R>>; idKind: IdKind[] } {
  return { name, run: (token, id) => gql(query, { token, variables: { input: input(id) } }), idKind };
}

const MUTATIONS = [
  mutation(
    "updateSubAccount",
    graphql(`mutation($input: UpdateSubAccountInput!) { r: updateSubAccount(input: $input) { __typename ... on Error { code message } } }`),
    (id) => ({ id, organizationName: "pwned" }),
    ["SubAccount"],
  ),
  mutation(
    "suspendSubAccount",
    graphql(`mutation($input: SubAccountStatusInput!) { r: suspendSubAccount(input: $input) { __typename ... on Error { code message } } }`),
    (id) => ({ id }),
    ["SubAccount"],
  ),
  mutation(
    "closeSubAccount",
    graphql(`mutation($input: SubAccountStatusInput!) { r: closeSubAccount(input: $input) { __typename ... on Error { code message } } }`),
    (id) => ({ id }),
    ["SubAccount"],
  ),
  mutation(
    "createApiKey",
    graphql(`mutation($input: CreateApiKeyInput!) { r: createApiKey(input: $input) { __typename ... on Error { code message } } }`),
    (accountId) => ({ accountId, name: "pwn" }),
    ["SubAccount", "Manager"],
  ),
  mutation(
    "revokeApiKey",
    graphql(`mutation($input: RevokeApiKeyInput!) { r: revokeApiKey(input: $input) { __typename ... on Error { code message } } }`),
    (id) => ({ id }),
    ["ApiKey", "ManagerApiKey"],
  ),
  mutation(
    "topUpBalance",
    graphql(`mutation($input: TopUpBalanceInput!) { r: topUpBalance(input: $input) { __typename ... on Error { code message } } }`),
    (accountId) => ({ accountId, amount: "1", idempotencyKey: "k-fixed" }),
    ["SubAccount", "Manager"],
  ),
  mutation(
    "recordUsage",
    graphql(`mutation($input: RecordUsageInput!) { r: recordUsage(input: $input) { __typename ... on Error { code message } } }`),
    (accountId) => ({ accountId, product: "SMS_OUTBOUND" as const, quantity: 1, idempotencyKey: "k-fixed" }),
    ["SubAccount", "Manager"],
  ),
  mutation(
    "provisionPhoneNumber",
    graphql(`mutation($input: ProvisionPhoneNumberInput!) { r: provisionPhoneNumber(input: $input) { __typename ... on Error { code message } } }`),
    (accountId) => ({ accountId, number: "+19995550100" }),
    ["SubAccount", "Manager"],
  ),
  mutation(
    "releasePhoneNumber",
    graphql(`mutation($input: ReleasePhoneNumberInput!) { r: releasePhoneNumber(input: $input) { __typename ... on Error { code message } } }`),
    (id) => ({ id }),
    ["PhoneNumber"],
  ),
  mutation(
    "updateManager",
    graphql(`mutation($input: UpdateManagerInput!) { r: updateManager(input: $input) { __typename ... on Error { code message } } }`),
    (id) => ({ id, organizationName: "pwned" }),
    ["Manager"],
  ),
];

describe("mutations naming another tree's rows answer exactly like missing ids", () => {
  it("every mutation input id, for the foreign manager and the foreign sub-account (and the sibling for sub-account rows)", async () => {
    for (const m of MUTATIONS) {
      for (const kind of m.idKind) {
        const callers: Record<string, string> = { otherManager: w.otherManager.token, otherSub: w.otherSub.token };
        if (!kind.startsWith("Manager")) callers.sibling = w.sibling.token;
        for (const [who, token] of Object.entries(callers)) {
          const foreign = await m.run(token, ids[kind]);
          const missing = await m.run(token, missingLike(ids[kind]));
          expect(foreign.body, `${who} ${m.name}(${kind})`).toEqual(missing.body);
          if (!foreign.body.errors) expect(foreign.body.data?.r.__typename, `${who} ${m.name}(${kind})`).toBe("NotFoundError");
        }
      }
    }
  });

  it("transferBalance and transferPhoneNumber: either id of another tree is a NotFoundError like a missing id", async () => {
    await topUp(w.otherSub.id, "5", w.otherManager.token);
    const TB = graphql(`mutation($input: TransferBalanceInput!) { r: transferBalance(input: $input) { __typename ... on Error { code message } } }`);
    const cases = [
      { fromAccountId: w.otherSub.id, toAccountId: w.sub.id },
      { fromAccountId: w.sub.id, toAccountId: w.otherSub.id },
      { fromAccountId: w.otherManager.id, toAccountId: w.sub.id },
    ];
    for (const c of cases) {
      const key = unique("t");
      const real = await gql(TB, { token: w.otherManager.token, variables: { input: { ...c, amount: "1", idempotencyKey: key } } });
      const fake = await gql(TB, {
        token: w.otherManager.token,
        variables: {
          input: {
            fromAccountId: c.fromAccountId === w.sub.id ? missingLike(w.sub.id) : c.fromAccountId,
            toAccountId: c.toAccountId === w.sub.id ? missingLike(w.sub.id) : c.toAccountId,
            amount: "1",
            idempotencyKey: key,
          },
        },
      });
      expect(real.body, JSON.stringify(c)).toEqual(fake.body);
      expect(real.body.data?.r.__typename).toBe("NotFoundError");
    }
    const TP = graphql(`mutation($input: TransferPhoneNumberInput!) { r: transferPhoneNumber(input: $input) { __typename ... on Error { code message } } }`);
    const foreignNumber = await gql(TP, { token: w.otherManager.token, variables: { input: { id: ids.PhoneNumber, toAccountId: w.otherSub.id } } });
    const missingNumber = await gql(TP, {
      token: w.otherManager.token,
      variables: { input: { id: missingLike(ids.PhoneNumber), toAccountId: w.otherSub.id } },
    });
    expect(foreignNumber.body).toEqual(missingNumber.body);
    expect(foreignNumber.body.data?.r.__typename).toBe("NotFoundError");
    // The manager moving its own number into a foreign account.
    const intoForeign = await gql(TP, { token: w.manager.token, variables: { input: { id: ids.PhoneNumber, toAccountId: w.otherSub.id } } });
    const intoMissing = await gql(TP, { token: w.manager.token, variables: { input: { id: ids.PhoneNumber, toAccountId: missingLike(w.otherSub.id) } } });
    expect(intoForeign.body).toEqual(intoMissing.body);
    expect(intoForeign.body.data?.r.__typename).toBe("NotFoundError");
  });

  it("nothing of the sub-account changed after all those attempts", async () => {
    const data = await gqlData(
      graphql(
        `query($id: ID!) { node(id: $id) { ... on SubAccount { organizationName status balance { available { amount } } apiKeys { totalCount } phoneNumbers { totalCount nodes { id } } usageRecords { totalCount } } } }`,
      ),
      { token: w.manager.token, variables: { id: w.sub.id } },
    );
    if (!data.node || !("organizationName" in data.node)) throw new Error("the sub-account is out of its manager's reach");
    expect(data.node.organizationName).toBe("Customer");
    expect(data.node.status).toBe("ACTIVE");
    expect(data.node.apiKeys.totalCount).toBe(1);
    expect(data.node.phoneNumbers).toEqual({ totalCount: 1, nodes: [{ id: ids.PhoneNumber }] });
    expect(data.node.usageRecords.totalCount).toBe(2); // the number's month and the SMS
    const mgr = await gqlData(graphql(`{ viewer { account { organizationName apiKeys { totalCount } } } }`), { token: w.manager.token });
    expect(mgr.viewer.account).toEqual({ organizationName: "Acme", apiKeys: { totalCount: 1 } });
  });
});

describe("pricing never reaches a sub-account through a mutation result", () => {
  it("recordUsage { usageRecord { cost } }, provisionPhoneNumber { phoneNumber { monthlyPrice } }, topUpBalance { entry } fail validation and change nothing", async () => {
    const before = await gqlData(
      graphql(`{ viewer { account { usageRecords { totalCount } phoneNumbers { totalCount } balance { available { amount } } } } }`),
      {
        token: w.sub.token,
      },
    );
    const attempts = [
      [
        `mutation($a: ID!) { recordUsage(input: { accountId: $a, product: SMS_OUTBOUND, quantity: 1, idempotencyKey: "${unique("c")}" }) { ... on RecordUsageSuccess { usageRecord { cost { amount } } } } }`,
      ],
      [
        `mutation($a: ID!) { provisionPhoneNumber(input: { accountId: $a, number: "+19995550123" }) { ... on ProvisionPhoneNumberSuccess { phoneNumber { monthlyPrice { amount } } } } }`,
      ],
      [
        `mutation($a: ID!) { topUpBalance(input: { accountId: $a, amount: "1", idempotencyKey: "${unique("c")}" }) { ... on TopUpBalanceSuccess { entry { id amount { amount } } } } }`,
      ],
      [
        `fragment F on UsageRecord { cost { amount } } mutation($a: ID!) { recordUsage(input: { accountId: $a, product: SMS_OUTBOUND, quantity: 1, idempotencyKey: "${unique("c")}" }) { ... on RecordUsageSuccess { usageRecord { ...F } } } }`,
      ],
      [
        `mutation($a: ID!) { updateSubAccount(input: { id: $a, organizationName: "x" }) { ... on UpdateSubAccountSuccess { subAccount { manager { id } pricing { source } } } } }`,
      ],
    ];
    for (const [query] of attempts) {
      const res = await gql(query!, { token: w.sub.token, variables: { a: w.sub.id } });
      expect(res.body.data, query).toBeUndefined();
      expect(res.body.errors?.length, query).toBeGreaterThan(0);
    }
    const after = await gqlData(
      graphql(`{ viewer { account { usageRecords { totalCount } phoneNumbers { totalCount } balance { available { amount } } } } }`),
      {
        token: w.sub.token,
      },
    );
    expect(after).toEqual(before);
  });
});

describe("audit events seen by a sub-account", () => {
  it("show the sub-account's own key prefix, but not its manager's", async () => {
    const { createManager, createSubAccount } = await import("../helpers/factories.js");
    const { gqlData } = await import("../helpers/app.js");
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    await gqlData(graphql(`mutation($id: ID!) { updateSubAccount(input: { id: $id, organizationName: "By the sub" }) { __typename } }`), {
      token: sub.token,
      variables: { id: sub.id },
    });
    const EVENTS = graphql(`{ viewer { account { auditEvents(first: 10) { nodes { action actorRole actorApiKeyPrefix } } } } }`);
    const subAccount = (await gqlData(EVENTS, { token: sub.token })).viewer.account;
    expect(subAccount).not.toBeNull();
    const seenBySub = subAccount!.auditEvents.nodes;
    const byManager = seenBySub.filter((e) => e.actorRole === "MANAGER");
    const bySub = seenBySub.filter((e) => e.actorRole === "SUB_ACCOUNT");
    expect(byManager.length).toBeGreaterThan(0);
    for (const e of byManager) expect(e.actorApiKeyPrefix).toBeNull();
    expect(bySub).toHaveLength(1);
    const ownPrefix = bySub[0]!.actorApiKeyPrefix;
    expect(ownPrefix).not.toBeNull();
    expect(sub.token.startsWith(ownPrefix!)).toBe(true);
    // The manager sees every prefix.
    const seenByManager = await gqlData(
      graphql(`query($id: ID!) { node(id: $id) { ... on Account { auditEvents(first: 10) { nodes { actorRole actorApiKeyPrefix } } } } }`),
      {
        token: manager.token,
        variables: { id: sub.id },
      },
    );
    if (!seenByManager.node || !("auditEvents" in seenByManager.node)) throw new Error("the sub-account is out of its manager's reach");
    for (const e of seenByManager.node.auditEvents.nodes) expect(e.actorApiKeyPrefix).not.toBeNull();
  });
});
