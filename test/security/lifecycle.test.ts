// Lifecycle and billing rules that protect tenants, probed from the outside.
import { describe, expect, it } from "vitest";
import { errorCodes, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, fundCharges, topUp, unique, uniquePhoneNumber } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

/** What these tests read of a mutation document built by R (its `extra` selections only through toMatchObject). */
interface MutationResult {
  r: { __typename: string; code?: string; message?: string };
}

const R = (m: string, input: string, extra = "") =>
  `mutation($input: ${input}!) { r: ${m}(input: $input) { __typename ... on Error { code message } ${extra} } }`;
const RECORD = R("recordUsage", "RecordUsageInput");
const PROVISION = R("provisionPhoneNumber", "ProvisionPhoneNumberInput");
const TOPUP = R("topUpBalance", "TopUpBalanceInput");
const STATE = graphql(
  `query($id: ID!) { node(id: $id) { ... on SubAccount { status effectiveStatus totalSpent { amount } balance { available { amount } } usageRecords { totalCount } phoneNumbers { totalCount } } } }`,
);
const stateOf = async (token: string, id: string) => {
  const { node } = await gqlData(STATE, { token, variables: { id } });
  if (!node || !("effectiveStatus" in node)) throw new Error(`no sub-account ${id} for this caller`);
  return node;
};

describe("a sub-account of a suspended manager incurs nothing", () => {
  it("recordUsage, provisionPhoneNumber and topUpBalance, as the sub-account and as its manager: AccountNotActiveError, nothing recorded", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    const rollup = await createSubAccount(manager, { rollupBilling: true });
    await topUp(sub.id, "5", manager.token);
    await fundCharges(rollup.id);
    await gqlData(graphql(`mutation($id: ID!) { suspendManager(input: { id: $id }) { __typename } }`), {
      token: OPERATOR_TOKEN,
      variables: { id: manager.id },
    });
    for (const target of [sub, rollup]) {
      const before = await stateOf(manager.token, target.id);
      expect(before.effectiveStatus).toBe("SUSPENDED");
      for (const token of [target.token, manager.token]) {
        const usage = await gql<MutationResult>(RECORD, {
          token,
          variables: { input: { accountId: target.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("u") } },
        });
        expect(usage.body.data?.r).toMatchObject({ __typename: "AccountNotActiveError" });
        const number = await gql<MutationResult>(PROVISION, { token, variables: { input: { accountId: target.id, number: uniquePhoneNumber() } } });
        expect(number.body.data?.r).toMatchObject({ __typename: "AccountNotActiveError" });
      }
      if (target === sub) {
        for (const token of [sub.token, manager.token]) {
          const top = await gql<MutationResult>(TOPUP, { token, variables: { input: { accountId: sub.id, amount: "1", idempotencyKey: unique("t") } } });
          expect(top.body.data?.r).toMatchObject({ __typename: "AccountNotActiveError" });
        }
      }
      const after = await stateOf(manager.token, target.id);
      expect(after).toEqual(before);
    }
  });
});

describe("closed sub-accounts and revoked keys", () => {
  it("a closed sub-account's keys get the one 401; its manager can no longer charge, top up, provision or add keys", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    await topUp(sub.id, "5", manager.token);
    await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), { token: manager.token, variables: { id: sub.id } });
    const asClosed = await gql(graphql(`{ viewer { role } }`), { token: sub.token });
    const unknown = await gql(graphql(`{ viewer { role } }`), { token: `agk_${"A".repeat(43)}` });
    expect(asClosed.status).toBe(401);
    expect(asClosed.body).toEqual(unknown.body);
    const usage = await gql<MutationResult>(RECORD, {
      token: manager.token,
      variables: { input: { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("u") } },
    });
    expect(usage.body.data?.r.__typename).toBe("AccountNotActiveError");
    const top = await gql<MutationResult>(TOPUP, {
      token: manager.token,
      variables: { input: { accountId: sub.id, amount: "1", idempotencyKey: unique("t") } },
    });
    expect(top.body.data?.r.__typename).toBe("AccountNotActiveError");
    const number = await gql<MutationResult>(PROVISION, { token: manager.token, variables: { input: { accountId: sub.id, number: uniquePhoneNumber() } } });
    expect(number.body.data?.r.__typename).toBe("AccountNotActiveError");
    const key = await gql<MutationResult>(R("createApiKey", "CreateApiKeyInput"), {
      token: manager.token,
      variables: { input: { accountId: sub.id, name: "revive" } },
    });
    expect(key.body.data?.r.__typename).toBe("AccountNotActiveError");
    const update = await gql<MutationResult>(R("updateSubAccount", "UpdateSubAccountInput"), {
      token: manager.token,
      variables: { input: { id: sub.id, organizationName: "x" } },
    });
    expect(update.body.data?.r.__typename).toBe("InvalidStateTransitionError");
  });

  it("a revoked key (revoked by the sub-account itself) gets the same 401 as an unknown key", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    const res = await gql<MutationResult>(R("revokeApiKey", "RevokeApiKeyInput"), { token: sub.token, variables: { input: { id: sub.keyId } } });
    expect(res.body.data?.r.__typename).toBe("RevokeApiKeySuccess");
    const revoked = await gql(graphql(`{ viewer { role } }`), { token: sub.token });
    const unknown = await gql(graphql(`{ viewer { role } }`), { token: `agk_${"B".repeat(43)}` });
    expect(revoked.status).toBe(401);
    expect(revoked.body).toEqual(unknown.body);
  });
});

describe("what a sub-account and a manager may change about themselves", () => {
  const UPDATE_SUB = R(
    "updateSubAccount",
    "UpdateSubAccountInput",
    "... on UpdateSubAccountSuccess { subAccount { organizationName allowCustomPricing creditLimit { amount } } }",
  );

  it("a sub-account: each non-self field alone, and mixed with allowed ones, is FORBIDDEN (not in its schema) and changes nothing", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager, { creditLimit: "5" });
    const forbidden = [{ allowCustomPricing: true }, { allowCustomPricing: false }, { creditLimit: "1000" }, { creditLimit: "5" }, { clearCreditLimit: true }];
    for (const field of forbidden) {
      for (const input of [field, { ...field, organizationName: "Mixed", email: `${unique("m")}@example.com` }]) {
        const res = await gql<MutationResult>(UPDATE_SUB, { token: sub.token, variables: { input: { id: sub.id, ...input } } });
        expect(errorCodes(res), JSON.stringify(input)).toEqual(["FORBIDDEN"]);
        expect(res.body.data ?? null).toBeNull();
      }
    }
    const state = await gqlData(
      graphql(`query($id: ID!) { node(id: $id) { ... on SubAccount { email organizationName allowCustomPricing creditLimit { amount } } } }`),
      {
        token: manager.token,
        variables: { id: sub.id },
      },
    );
    expect(state.node).toEqual({ email: sub.email, organizationName: "Customer", allowCustomPricing: false, creditLimit: { amount: "5.000000" } });
    const ok = await gql<MutationResult>(UPDATE_SUB, { token: sub.token, variables: { input: { id: sub.id, organizationName: "Mine" } } });
    expect(ok.body.data?.r).toMatchObject({ __typename: "UpdateSubAccountSuccess", subAccount: { organizationName: "Mine" } });
  });

  it("a manager: raising (or restating) its own subAccountLimit is FORBIDDEN (not in its schema); the limit stays", async () => {
    const manager = await createManager({ subAccountLimit: 2 });
    const UPDATE_MGR = R("updateManager", "UpdateManagerInput");
    for (const subAccountLimit of [3, 1_000_000, 2]) {
      const res = await gql<MutationResult>(UPDATE_MGR, {
        token: manager.token,
        variables: { input: { id: manager.id, subAccountLimit, organizationName: "Bigger" } },
      });
      expect(errorCodes(res)).toEqual(["FORBIDDEN"]);
    }
    const me = await gqlData(graphql(`{ viewer { account { organizationName ... on Manager { subAccountLimit } } } }`), { token: manager.token });
    expect(me.viewer.account).toEqual({ organizationName: "Acme", subAccountLimit: 2 });
  });

  it("setAccountPricing on a sub-account without allowCustomPricing is a ForbiddenError that writes no card", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    const res = await gql<MutationResult>(R("setAccountPricing", "SetPricingInput"), {
      token: OPERATOR_TOKEN,
      variables: { input: { accountId: sub.id, rates: [{ product: "SMS_OUTBOUND", unitPrice: "0.5" }] } },
    });
    expect(res.body.data?.r.__typename).toBe("ForbiddenError");
    const pricing = await gqlData(graphql(`query($id: ID!) { node(id: $id) { ... on SubAccount { pricing { source } } } }`), {
      token: manager.token,
      variables: { id: sub.id },
    });
    if (!pricing.node || !("pricing" in pricing.node)) throw new Error("the sub-account is out of its manager's reach");
    // pricing is null only for a sub-account reading its own; the manager reads it here.
    expect(pricing.node.pricing?.source).toBe("INHERITED_FROM_MANAGER");
  });
});
