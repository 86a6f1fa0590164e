import { describe, expect, it } from "vitest";
import { gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, uniqueEmail } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

/** What the tests read of a status mutation's result (STATUS builds its document per action, so the type is stated here). */
type StatusResult =
  | { __typename: "ManagerStatusSuccess"; manager: { status: string } }
  | {
      __typename: "SubAccountStatusSuccess";
      subAccount: { status: string; effectiveStatus: string; suspendedAt: string | null; closedAt: string | null; scheduledDeletionAt: string | null };
    }
  | { __typename: "InvalidStateTransitionError"; code: string; from: string; to: string }
  | { __typename: "NotFoundError" | "ForbiddenError"; code: string };

const STATUS = (action: string) => `mutation($id: ID!) { ${action}(input: { id: $id }) { __typename
  ${action.endsWith("Manager") ? "... on ManagerStatusSuccess { manager { status } }" : "... on SubAccountStatusSuccess { subAccount { status effectiveStatus suspendedAt closedAt scheduledDeletionAt } }"}
  ... on InvalidStateTransitionError { code from to } ... on Error { code } } }`;
const act = async (token: string, action: string, id: string) => {
  const r = (await gqlData<Record<string, StatusResult>>(STATUS(action), { token, variables: { id } }))[action];
  if (!r) throw new Error(`no ${action} in the answer`);
  return r;
};
/** The sub-account of a status mutation's result; fails the test on any other result. */
const subAccountOf = (r: StatusResult) => {
  if (r.__typename !== "SubAccountStatusSuccess") throw new Error(`expected SubAccountStatusSuccess, got ${JSON.stringify(r)}`);
  return r.subAccount;
};
/** The manager of a status mutation's result; fails the test on any other result. */
const managerOf = (r: StatusResult) => {
  if (r.__typename !== "ManagerStatusSuccess") throw new Error(`expected ManagerStatusSuccess, got ${JSON.stringify(r)}`);
  return r.manager;
};
const AUDIT = graphql(`query($id: ID!) { node(id: $id) { ... on Account { auditEvents(first: 100) { totalCount nodes { action } } } } }`);
const auditCount = async (token: string, id: string) => {
  const { node } = await gqlData(AUDIT, { token, variables: { id } });
  if (!node || !("auditEvents" in node)) throw new Error(`not a readable account: ${JSON.stringify(node)}`);
  return node.auditEvents;
};

describe("sub-account lifecycle", () => {
  it("ACTIVE -> SUSPENDED -> ACTIVE -> CLOSED, with timestamps", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    const suspended = await act(manager.token, "suspendSubAccount", sub.id);
    expect(subAccountOf(suspended).status).toBe("SUSPENDED");
    expect(subAccountOf(suspended).suspendedAt).not.toBeNull();
    const active = await act(manager.token, "reactivateSubAccount", sub.id);
    expect(subAccountOf(active)).toMatchObject({ status: "ACTIVE", suspendedAt: null });
    const closed = await act(manager.token, "closeSubAccount", sub.id);
    const closedSub = subAccountOf(closed);
    expect(closedSub.status).toBe("CLOSED");
    expect(closedSub.closedAt).not.toBeNull();
    expect(closedSub.scheduledDeletionAt).not.toBeNull();
    const closedAt = new Date(closedSub.closedAt!).getTime();
    expect(new Date(closedSub.scheduledDeletionAt!).getTime() - closedAt).toBe(30 * 24 * 3600 * 1000);
  });

  it("repeating a suspend or a reactivate is an idempotent success with no audit event", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    await act(manager.token, "suspendSubAccount", sub.id);
    const before = (await auditCount(manager.token, sub.id)).totalCount;
    expect((await act(manager.token, "suspendSubAccount", sub.id)).__typename).toBe("SubAccountStatusSuccess");
    await act(manager.token, "reactivateSubAccount", sub.id);
    expect((await act(manager.token, "reactivateSubAccount", sub.id)).__typename).toBe("SubAccountStatusSuccess");
    const after = await auditCount(manager.token, sub.id);
    expect(after.totalCount).toBe(before + 1);
    expect(after.nodes[0]?.action).toBe("subAccount.reactivate");
  });

  it("CLOSED is terminal: every transition and any update is InvalidStateTransitionError and changes nothing", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    await act(manager.token, "closeSubAccount", sub.id);
    expect(await act(manager.token, "reactivateSubAccount", sub.id)).toEqual({
      __typename: "InvalidStateTransitionError",
      code: "INVALID_STATE_TRANSITION",
      from: "CLOSED",
      to: "ACTIVE",
    });
    expect(await act(manager.token, "suspendSubAccount", sub.id)).toMatchObject({ from: "CLOSED", to: "SUSPENDED" });
    expect(await act(OPERATOR_TOKEN, "closeSubAccount", sub.id)).toMatchObject({ from: "CLOSED", to: "CLOSED" });
    const update = await gqlData(
      graphql(
        `mutation($id: ID!) { updateSubAccount(input: { id: $id, organizationName: "Changed" }) { __typename ... on InvalidStateTransitionError { from to } } }`,
      ),
      {
        token: manager.token,
        variables: { id: sub.id },
      },
    );
    expect(update.updateSubAccount).toEqual({ __typename: "InvalidStateTransitionError", from: "CLOSED", to: "CLOSED" });
    const node = await gqlData(graphql(`query($id: ID!) { node(id: $id) { ... on SubAccount { status organizationName } } }`), {
      token: manager.token,
      variables: { id: sub.id },
    });
    expect(node.node).toEqual({ status: "CLOSED", organizationName: "Customer" });
  });

  it("closing revokes every key of the sub-account and keeps it readable by the manager", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    await act(manager.token, "closeSubAccount", sub.id);
    const data = await gqlData(graphql(`query($id: ID!) { node(id: $id) { ... on Account { apiKeys(includeRevoked: true) { nodes { revokedAt } } } } }`), {
      token: manager.token,
      variables: { id: sub.id },
    });
    if (!data.node || !("apiKeys" in data.node)) throw new Error(`not a readable account: ${JSON.stringify(data.node)}`);
    expect(data.node.apiKeys.nodes.length).toBeGreaterThan(0);
    for (const key of data.node.apiKeys.nodes) expect(key.revokedAt).not.toBeNull();
    expect((await gql(graphql(`{ viewer { role } }`), { token: sub.token })).status).toBe(401);
  });

  it("a suspended manager makes its sub-accounts effectively SUSPENDED while their own status stays", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    expect(managerOf(await act(OPERATOR_TOKEN, "suspendManager", manager.id)).status).toBe("SUSPENDED");
    const seen = await gqlData(graphql(`{ viewer { account { ... on SubAccount { status effectiveStatus } } } }`), { token: sub.token });
    expect(seen.viewer.account).toEqual({ status: "ACTIVE", effectiveStatus: "SUSPENDED" });
    // Suspended accounts can still read; the manager cannot grow its tree.
    const create = await gqlData(
      graphql(`mutation($e: EmailAddress!) { createSubAccount(input: { email: $e }) { __typename ... on AccountNotActiveError { status } } }`),
      {
        token: manager.token,
        variables: { e: uniqueEmail() },
      },
    );
    expect(create.createSubAccount).toEqual({ __typename: "AccountNotActiveError", status: "SUSPENDED" });
    await act(OPERATOR_TOKEN, "reactivateManager", manager.id);
    const back = await gqlData(graphql(`{ viewer { account { ... on SubAccount { effectiveStatus } } } }`), { token: sub.token });
    const account = back.viewer.account;
    if (!account || !("effectiveStatus" in account)) throw new Error(`not a sub-account: ${JSON.stringify(account)}`);
    expect(account.effectiveStatus).toBe("ACTIVE");
  });

  it("managers cannot be closed through the API: there is no such mutation", async () => {
    const res = await gql(`mutation { closeManager(input: { id: "x" }) { __typename } }`, { token: OPERATOR_TOKEN });
    expect(res.body.errors?.[0]?.message).toMatch(/closeManager/);
  });
});

describe("sub-account limit", () => {
  it("refuses the sub-account past the limit with LimitExceededError; closed ones do not count", async () => {
    const manager = await createManager({ subAccountLimit: 2 });
    const a = await createSubAccount(manager);
    await createSubAccount(manager);
    const CREATE = graphql(`mutation($e: EmailAddress!) { createSubAccount(input: { email: $e }) { __typename ... on LimitExceededError { code limit } } }`);
    const refused = await gqlData(CREATE, { token: manager.token, variables: { e: uniqueEmail() } });
    expect(refused.createSubAccount).toEqual({ __typename: "LimitExceededError", code: "LIMIT_EXCEEDED", limit: 2 });
    await act(manager.token, "closeSubAccount", a.id);
    expect((await gqlData(CREATE, { token: manager.token, variables: { e: uniqueEmail() } })).createSubAccount.__typename).toBe("CreateSubAccountSuccess");
  });

  it("holds under concurrent creation: exactly `limit` succeed", async () => {
    const manager = await createManager({ subAccountLimit: 3 });
    const CREATE = graphql(`mutation($e: EmailAddress!) { createSubAccount(input: { email: $e }) { __typename } }`);
    const results = await Promise.all(Array.from({ length: 10 }, () => gqlData(CREATE, { token: manager.token, variables: { e: uniqueEmail() } })));
    const kinds = results.map((r) => r.createSubAccount.__typename);
    expect(kinds.filter((k) => k === "CreateSubAccountSuccess")).toHaveLength(3);
    expect(kinds.filter((k) => k === "LimitExceededError")).toHaveLength(7);
  });
});

describe("idempotent createSubAccount", () => {
  it("the same key and input return the first sub-account; another input is IdempotencyConflictError", async () => {
    const manager = await createManager();
    const email = uniqueEmail();
    const CREATE = graphql(
      `mutation($input: CreateSubAccountInput!) { createSubAccount(input: $input) { __typename ... on CreateSubAccountSuccess { subAccount { id } } } }`,
    );
    const input = { email, idempotencyKey: "create-1" };
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => gqlData(CREATE, { token: manager.token, variables: { input } })));
    const ids = new Set(
      results.map(({ createSubAccount: r }) => {
        if (r.__typename !== "CreateSubAccountSuccess") throw new Error(`expected CreateSubAccountSuccess, got ${JSON.stringify(r)}`);
        return r.subAccount.id;
      }),
    );
    expect(ids.size).toBe(1);
    const conflict = await gqlData(CREATE, { token: manager.token, variables: { input: { ...input, organizationName: "Other" } } });
    expect(conflict.createSubAccount.__typename).toBe("IdempotencyConflictError");
    const count = await gqlData(graphql(`{ viewer { account { ... on Manager { subAccounts { totalCount } } } } }`), { token: manager.token });
    const account = count.viewer.account;
    if (!account || !("subAccounts" in account)) throw new Error(`not a manager: ${JSON.stringify(account)}`);
    expect(account.subAccounts.totalCount).toBe(1);
  });
});
