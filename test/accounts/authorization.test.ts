// The authorization matrix for accounts and API keys: every role against
// every path. An unreachable row must look exactly like a missing one.
import type { ExecutionResult } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { type Document, errorCodes, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createApiKey, createWorld, type World } from "../helpers/factories.js";
import { graphql, type ResultOf } from "../helpers/graphql.js";
import { missingId } from "../helpers/ids.js";

let w: World;
let roles: Record<string, string>;
beforeAll(async () => {
  w = await createWorld();
  roles = { operator: OPERATOR_TOKEN, manager: w.manager.token, otherManager: w.otherManager.token, sub: w.sub.token, sibling: w.sibling.token };
});

const NODE = graphql(`query($id: ID!) { node(id: $id) { __typename id } }`);
const nodeAs = async (token: string, id: string) => (await gqlData(NODE, { token, variables: { id } })).node;

describe("node and nodes", () => {
  it("each role reaches exactly the accounts DOMAIN.md allows; the rest is null like a missing id", async () => {
    const expected: Record<string, Record<string, boolean>> = {
      operator: { manager: true, otherManager: true, sub: true, sibling: true, otherSub: true },
      manager: { manager: true, otherManager: false, sub: true, sibling: true, otherSub: false },
      otherManager: { manager: false, otherManager: true, sub: false, sibling: false, otherSub: true },
      sub: { manager: false, otherManager: false, sub: true, sibling: false, otherSub: false },
      sibling: { manager: false, otherManager: false, sub: false, sibling: true, otherSub: false },
    };
    for (const [role, targets] of Object.entries(expected)) {
      for (const [target, visible] of Object.entries(targets)) {
        const id = w[target as keyof World].id;
        const node = await nodeAs(roles[role]!, id);
        expect(node, `${role} -> node(${target})`).toEqual(visible ? { __typename: expect.any(String), id } : null);
      }
    }
  });

  it("answers the same for a forbidden id, a missing id, a malformed id and a wrong-type id", async () => {
    const res = await gql(graphql(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`), {
      token: w.sub.token,
      variables: { ids: [w.sibling.id, missingId("SubAccount"), "not-an-id", missingId("Nope"), w.manager.id, w.sub.id] },
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.nodes).toEqual([null, null, null, null, null, { __typename: "SubAccount", id: w.sub.id }]);
    // A Manager id re-labelled as SubAccount does not resolve either.
    const relabelled = Buffer.from(`SubAccount:${Buffer.from(w.manager.id, "base64").toString().split(":")[1]}`).toString("base64");
    expect(await nodeAs(OPERATOR_TOKEN, relabelled)).toBeNull();
  });

  it("API keys are reachable through node only by their account's side of the tree", async () => {
    const subKey = w.sub.keyId;
    expect(await nodeAs(OPERATOR_TOKEN, subKey)).not.toBeNull();
    expect(await nodeAs(w.manager.token, subKey)).not.toBeNull();
    expect(await nodeAs(w.sub.token, subKey)).not.toBeNull();
    expect(await nodeAs(w.sibling.token, subKey)).toBeNull();
    expect(await nodeAs(w.otherManager.token, subKey)).toBeNull();
    expect(await nodeAs(w.sub.token, w.manager.keyId)).toBeNull();
  });

  it("ids are opaque: no bare database id appears", async () => {
    expect(w.sub.id).not.toMatch(/^[0-9a-f-]{36}$/);
    expect(Buffer.from(w.sub.id, "base64").toString()).toMatch(/^SubAccount:/);
  });
});

describe("nested paths and counts", () => {
  const TREE = graphql(
    `{ viewer { account { id ... on Manager { subAccounts(first: 50) { totalCount nodes { id email apiKeys { totalCount nodes { id prefix account { id } } } } } } } } }`,
  );

  it("a manager's tree holds its own sub-accounts only, with counts that match", async () => {
    const data = await gqlData(TREE, { token: w.manager.token });
    const account = data.viewer.account;
    if (!account || !("subAccounts" in account)) throw new Error(`not a manager: ${JSON.stringify(account)}`);
    const subs = account.subAccounts;
    expect(subs.totalCount).toBe(2);
    expect(subs.nodes.map((n) => n.id).sort()).toEqual([w.sub.id, w.sibling.id].sort());
    for (const node of subs.nodes) {
      expect(node.apiKeys.totalCount).toBe(1);
      expect(node.apiKeys.nodes[0]?.account.id).toBe(node.id);
    }
  });

  it("a sub-account's viewer is itself, and its schema has no way up to its manager", async () => {
    const own = await gqlData(graphql(`{ viewer { account { id ... on SubAccount { managerEmail } } } }`), { token: w.sub.token });
    expect(own.viewer.account).toEqual({ id: w.sub.id, managerEmail: w.manager.email });
    const res = await gql(`{ viewer { account { ... on SubAccount { manager { id email } } } } }`, { token: w.sub.token });
    expect(res.body.data ?? null).toBeNull();
    expect(errorCodes(res)).toEqual(["FORBIDDEN"]);
    expect(res.body.errors![0]!.message).toBe("SubAccount.manager is not available to your role");
    // Through an alias and a fragment as well.
    const aliased = await gql(`{ viewer { account { ...Up } } } fragment Up on SubAccount { boss: manager { id } }`, { token: w.sub.token });
    expect(errorCodes(aliased)).toEqual(["FORBIDDEN"]);
    // A field that exists for no role is an ordinary validation error.
    const unknown = await gql(`{ viewer { account { ... on SubAccount { nonsense } } } }`, { token: w.sub.token });
    expect(errorCodes(unknown)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
  });

  it("behind the role schema, the field rule still answers null with FORBIDDEN (second line)", async () => {
    const { execute, parse, print } = await import("graphql");
    const { schema } = await import("../../src/schema/index.js");
    const viewer = {
      role: "SUB_ACCOUNT" as const,
      accountId: Buffer.from(w.sub.id, "base64").toString().split(":")[1]!,
      managerId: null,
      accountStatus: "ACTIVE" as const,
      managerStatus: "ACTIVE" as const,
      apiKey: { id: "x", prefix: "x" },
    };
    const document = graphql(`{ viewer { account { ... on SubAccount { manager { id } } } } }`);
    // execute() is not generic over the document; its data has the shape this document selects.
    const result = (await execute({
      schema,
      document: parse(print(document)),
      contextValue: { viewer, requestId: "t", typedErrors: [] },
    })) as ExecutionResult<ResultOf<typeof document>>;
    const account = result.data?.viewer.account;
    if (!account || !("manager" in account)) throw new Error(`no sub-account in ${JSON.stringify(result.data)}`);
    expect(account.manager).toBeNull();
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(["FORBIDDEN"]);
  });

  it("SubAccount.manager resolves for the manager and the operator", async () => {
    for (const token of [w.manager.token, OPERATOR_TOKEN]) {
      const data = await gqlData(graphql(`query($id: ID!) { node(id: $id) { ... on SubAccount { manager { id } } } }`), {
        token,
        variables: { id: w.sub.id },
      });
      if (!data.node || !("manager" in data.node)) throw new Error(`not a sub-account: ${JSON.stringify(data.node)}`);
      expect(data.node.manager).not.toBeNull();
      expect(data.node.manager!.id).toBe(w.manager.id);
    }
  });

  it("the API key path ApiKey.account never leads outside the caller's reach", async () => {
    const data = await gqlData(graphql(`{ viewer { apiKey { account { id } } } }`), { token: w.sub.token });
    expect(data.viewer.apiKey).not.toBeNull();
    expect(data.viewer.apiKey!.account.id).toBe(w.sub.id);
  });
});

describe("managers (operators only)", () => {
  const MANAGERS = graphql(`query($email: String) { managers(first: 10, filter: { email: { eq: $email } }) { totalCount nodes { id email } } }`);

  it("lists managers for the operator, filtered", async () => {
    const data = await gqlData(MANAGERS, { token: OPERATOR_TOKEN, variables: { email: w.manager.email.toUpperCase() } });
    expect(data.managers).toEqual({ totalCount: 1, nodes: [{ id: w.manager.id, email: w.manager.email }] });
  });

  it.each(["manager", "sub"])("is not in a %s's schema: naming it fails validation with FORBIDDEN, no data", async (role) => {
    const res = await gql(MANAGERS, { token: roles[role], variables: { email: w.manager.email } });
    expect(res.body.data ?? null).toBeNull();
    expect(errorCodes(res)).toEqual(["FORBIDDEN"]);
  });
});

describe("mutations naming rows out of reach get NotFoundError, and change nothing", () => {
  const UPDATE_SUB = graphql(`mutation($id: ID!) { updateSubAccount(input: { id: $id, organizationName: "Hijacked" }) { __typename ... on Error { code } } }`);
  const SUSPEND_SUB = graphql(`mutation($id: ID!) { suspendSubAccount(input: { id: $id }) { __typename ... on Error { code } } }`);
  const CREATE_KEY = graphql(`mutation($id: ID!) { createApiKey(input: { accountId: $id, name: "intruder" }) { __typename ... on Error { code } } }`);
  const REVOKE_KEY = graphql(`mutation($id: ID!) { revokeApiKey(input: { id: $id }) { __typename ... on Error { code } } }`);
  const UPDATE_MANAGER = graphql(`mutation($id: ID!) { updateManager(input: { id: $id, organizationName: "Hijacked" }) { __typename ... on Error { code } } }`);

  /** What run reads of a mutation result: every member has a __typename, the errors a code. */
  type MutationResult = { __typename: string; code?: string };

  async function run(query: Document<Record<string, MutationResult>, { id: string }>, role: string, id: string) {
    const data = await gqlData(query, { token: roles[role], variables: { id } });
    return Object.values(data)[0];
  }

  it("a foreign manager cannot touch another tree", async () => {
    expect(await run(UPDATE_SUB, "otherManager", w.sub.id)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await run(SUSPEND_SUB, "otherManager", w.sub.id)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await run(CREATE_KEY, "otherManager", w.sub.id)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await run(REVOKE_KEY, "otherManager", w.sub.keyId)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await run(UPDATE_MANAGER, "otherManager", w.manager.id)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
  });

  it("a sibling cannot touch its sibling, and a sub-account cannot touch its manager", async () => {
    expect(await run(UPDATE_SUB, "sibling", w.sub.id)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await run(CREATE_KEY, "sibling", w.sub.id)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await run(REVOKE_KEY, "sibling", w.sub.keyId)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await run(CREATE_KEY, "sub", w.manager.id)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await run(REVOKE_KEY, "sub", w.manager.keyId)).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    // updateManager is not in a sub-account's schema at all.
    const res = await gql(UPDATE_MANAGER, { token: roles.sub, variables: { id: w.manager.id } });
    expect(errorCodes(res)).toEqual(["FORBIDDEN"]);
  });

  it("nothing changed: names, statuses and keys are as before", async () => {
    const data = await gqlData(graphql(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on Account { organizationName status apiKeys { totalCount } } } }`), {
      token: OPERATOR_TOKEN,
      variables: { ids: [w.sub.id, w.manager.id] },
    });
    expect(data.nodes).toEqual([
      { organizationName: "Customer", status: "ACTIVE", apiKeys: { totalCount: 1 } },
      { organizationName: "Acme", status: "ACTIVE", apiKeys: { totalCount: 1 } },
    ]);
  });
});

describe("what each role may do", () => {
  const CREATE_MANAGER = graphql(`mutation($email: EmailAddress!) { createManager(input: { email: $email }) { __typename ... on Error { code } } }`);
  const CREATE_SUB = graphql(`mutation($email: EmailAddress!) { createSubAccount(input: { email: $email }) { __typename ... on Error { code } } }`);
  const SUSPEND_MANAGER = graphql(`mutation($id: ID!) { suspendManager(input: { id: $id }) { __typename ... on Error { code } } }`);

  it("only the operator creates managers: the mutation is not in anyone else's schema", async () => {
    for (const role of ["manager", "sub"]) {
      const res = await gql(CREATE_MANAGER, { token: roles[role], variables: { email: `nope-${role}-${Date.now()}@example.com` } });
      expect(errorCodes(res)).toEqual(["FORBIDDEN"]);
    }
  });

  it("only a manager creates sub-accounts (under itself): the mutation is not in the operator's or a sub-account's schema", async () => {
    for (const role of ["operator", "sub"]) {
      const res = await gql(CREATE_SUB, { token: roles[role], variables: { email: `nope-${role}-${Date.now()}@example.com` } });
      expect(errorCodes(res)).toEqual(["FORBIDDEN"]);
      expect(res.body.data ?? null).toBeNull();
    }
  });

  it("only the operator suspends managers", async () => {
    for (const role of ["manager", "sub"]) {
      const res = await gql(SUSPEND_MANAGER, { token: roles[role], variables: { id: w.manager.id } });
      expect(errorCodes(res)).toEqual(["FORBIDDEN"]);
    }
  });

  it("a sub-account cannot change its own status: the mutations are not in its schema", async () => {
    for (const action of ["suspendSubAccount", "closeSubAccount", "reactivateSubAccount"]) {
      const res = await gql(`mutation($id: ID!) { ${action}(input: { id: $id }) { __typename ... on Error { code } } }`, {
        token: w.sub.token,
        variables: { id: w.sub.id },
      });
      expect(errorCodes(res)).toEqual(["FORBIDDEN"]);
      expect(res.body.errors![0]!.message).toBe(`Mutation.${action} is not available to your role`);
    }
    const status = await gqlData(graphql(`{ viewer { account { status } } }`), { token: w.sub.token });
    expect(status.viewer.account).not.toBeNull();
    expect(status.viewer.account!.status).toBe("ACTIVE");
  });

  it("a manager may not raise its own subAccountLimit; the operator may", async () => {
    const UPDATE = graphql(
      `mutation($id: ID!) { updateManager(input: { id: $id, subAccountLimit: 5000, organizationName: "Mixed" }) { __typename ... on UpdateManagerSuccess { manager { subAccountLimit organizationName } } } }`,
    );
    // subAccountLimit is not in a manager's UpdateManagerInput: a literal and a variable are refused alike.
    const literal = await gql(UPDATE, { token: w.manager.token, variables: { id: w.manager.id } });
    expect(errorCodes(literal)).toEqual(["FORBIDDEN"]);
    expect(literal.body.errors![0]!.message).toBe("UpdateManagerInput.subAccountLimit is not available to your role");
    const variable = await gql(graphql(`mutation($input: UpdateManagerInput!) { updateManager(input: $input) { __typename } }`), {
      token: w.manager.token,
      variables: { input: { id: w.manager.id, subAccountLimit: 5000 } },
    });
    expect(errorCodes(variable)).toEqual(["FORBIDDEN"]);
    expect(variable.body.errors![0]!.message).toBe("UpdateManagerInput.subAccountLimit is not available to your role");
    const ok = await gqlData(UPDATE, { token: OPERATOR_TOKEN, variables: { id: w.otherManager.id } });
    expect(ok.updateManager.__typename).toBe("UpdateManagerSuccess");
    if (ok.updateManager.__typename !== "UpdateManagerSuccess") throw new Error(JSON.stringify(ok.updateManager));
    expect(ok.updateManager.manager).toEqual({ subAccountLimit: 5000, organizationName: "Mixed" });
  });

  it("keys: a manager creates keys for itself and its sub-accounts, a sub-account for itself, the operator for anyone", async () => {
    await createApiKey(w.manager.token, w.manager.id);
    await createApiKey(w.manager.token, w.sibling.id);
    await createApiKey(w.sub.token, w.sub.id);
    await createApiKey(OPERATOR_TOKEN, w.otherSub.id);
  });
});
