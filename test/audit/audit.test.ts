// DOMAIN.md, Audit: every successful change writes one event (what, by which
// role and key prefix, to which account, when); changes that change nothing
// write none; Manager.auditEvents covers the tree, SubAccount.auditEvents the
// sub-account, whoever acted.
import { beforeAll, describe, expect, it } from "vitest";
import { gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createApiKey, createWorld, provisionNumber, setAccountPricing, topUp, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

const EVENTS = graphql(
  `query($id: ID!) { node(id: $id) { ... on Account { auditEvents(first: 100) { totalCount nodes { action actorRole actorApiKeyPrefix account { id } occurredAt } } } } }`,
);
const eventsOf = async (id: string, token = OPERATOR_TOKEN) => {
  const { node } = await gqlData(EVENTS, { token, variables: { id } });
  if (!node || !("auditEvents" in node)) throw new Error(`no account ${id} for this caller`);
  return node.auditEvents;
};
const prefixOf = (token: string) => token.slice(0, 12);

let w: World;
beforeAll(async () => {
  w = await createWorld();
});

describe("audit log", () => {
  it("records each kind of change with its actor and subject account", async () => {
    const key = await createApiKey(w.manager.token, w.sub.id, "audited");
    await gqlData(graphql(`mutation($id: ID!) { revokeApiKey(input: { id: $id }) { __typename } }`), { token: w.sub.token, variables: { id: key.id } });
    await gqlData(graphql(`mutation($id: ID!) { suspendSubAccount(input: { id: $id }) { __typename } }`), {
      token: OPERATOR_TOKEN,
      variables: { id: w.sibling.id },
    });
    await topUp(w.sub.id, "10", w.manager.token);
    await setAccountPricing(w.manager.id, { SMS_OUTBOUND: "0.01" });
    await provisionNumber(w.sub.token, w.sub.id);
    await gqlData(
      graphql(`mutation($id: ID!) { recordUsage(input: { accountId: $id, product: SMS_OUTBOUND, quantity: 3, idempotencyKey: "audit-1" }) { __typename } }`),
      {
        token: w.sub.token,
        variables: { id: w.sub.id },
      },
    );

    const sub = (await eventsOf(w.sub.id)).nodes;
    const find = (action: string) => sub.find((e) => e.action === action);
    expect(find("subAccount.create")).toMatchObject({ actorRole: "MANAGER", actorApiKeyPrefix: prefixOf(w.manager.token), account: { id: w.sub.id } });
    expect(find("apiKey.create")).toMatchObject({ actorRole: "MANAGER", actorApiKeyPrefix: prefixOf(w.manager.token), account: { id: w.sub.id } });
    expect(find("apiKey.revoke")).toMatchObject({ actorRole: "SUB_ACCOUNT", actorApiKeyPrefix: prefixOf(w.sub.token), account: { id: w.sub.id } });
    expect(find("balance.topUp")).toMatchObject({ actorRole: "MANAGER", account: { id: w.sub.id } });
    expect(find("phoneNumber.provision")).toMatchObject({ actorRole: "SUB_ACCOUNT", account: { id: w.sub.id } });
    expect(find("usage.record")).toMatchObject({ actorRole: "SUB_ACCOUNT", account: { id: w.sub.id } });

    const sibling = (await eventsOf(w.sibling.id)).nodes;
    expect(sibling.find((e) => e.action === "subAccount.suspend")).toMatchObject({
      actorRole: "OPERATOR",
      actorApiKeyPrefix: null,
      account: { id: w.sibling.id },
    });

    const manager = (await eventsOf(w.manager.id)).nodes;
    expect(manager.find((e) => e.action === "manager.create")).toMatchObject({ actorRole: "OPERATOR", actorApiKeyPrefix: null, account: { id: w.manager.id } });
    expect(manager.find((e) => e.action === "pricing.setAccount")).toMatchObject({ actorRole: "OPERATOR", account: { id: w.manager.id } });
    for (const e of [...sub, ...sibling, ...manager]) expect(Date.parse(e.occurredAt)).not.toBeNaN();
  });

  it("Manager.auditEvents lists the whole tree and nothing of another; counts match", async () => {
    const tree = await eventsOf(w.manager.id, w.manager.token);
    const accounts = new Set(tree.nodes.map((e) => e.account?.id));
    expect(accounts).toEqual(new Set([w.manager.id, w.sub.id, w.sibling.id]));
    expect(tree.totalCount).toBe(tree.nodes.length);
    const other = await eventsOf(w.otherManager.id, w.otherManager.token);
    expect(other.nodes.every((e) => e.account?.id === w.otherManager.id || e.account?.id === w.otherSub.id)).toBe(true);
  });

  it("a balance transfer writes one event on each side", async () => {
    await topUp(w.manager.id, "50", w.manager.token);
    await gqlData(graphql(`mutation($input: TransferBalanceInput!) { transferBalance(input: $input) { __typename } }`), {
      token: w.manager.token,
      variables: { input: { fromAccountId: w.manager.id, toAccountId: w.sub.id, amount: "5", idempotencyKey: "audit-transfer" } },
    });
    expect((await eventsOf(w.manager.id)).nodes.filter((e) => e.action === "balance.transferOut" && e.account?.id === w.manager.id)).toHaveLength(1);
    expect((await eventsOf(w.sub.id)).nodes.filter((e) => e.action === "balance.transferIn")).toHaveLength(1);
  });

  it("a change that changes nothing, or fails, writes no event", async () => {
    const before = (await eventsOf(w.sub.id)).totalCount;
    await gqlData(graphql(`mutation($id: ID!) { reactivateSubAccount(input: { id: $id }) { __typename } }`), {
      token: w.manager.token,
      variables: { id: w.sub.id },
    });
    const same = await gqlData(graphql(`mutation($id: ID!) { updateSubAccount(input: { id: $id, organizationName: "Customer" }) { __typename } }`), {
      token: w.manager.token,
      variables: { id: w.sub.id },
    });
    expect(same.updateSubAccount.__typename).toBe("UpdateSubAccountSuccess");
    const refused = await gqlData(
      graphql(`mutation($id: ID!, $name: String) { updateSubAccount(input: { id: $id, organizationName: $name }) { __typename } }`),
      {
        token: w.manager.token,
        variables: { id: w.sub.id, name: "y".repeat(300) },
      },
    );
    expect(refused.updateSubAccount.__typename).toBe("ValidationError");
    expect((await eventsOf(w.sub.id)).totalCount).toBe(before);
  });
});
