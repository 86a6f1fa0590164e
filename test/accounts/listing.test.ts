import { beforeAll, describe, expect, it } from "vitest";
import { errorCodes, gql, gqlData } from "../helpers/app.js";
import { createManager, createSubAccount, type TestAccount, unique } from "../helpers/factories.js";
import { graphql, type VariablesOf } from "../helpers/graphql.js";

const LIST = graphql(`query($first: Int, $after: String, $filter: SubAccountFilter, $sort: SubAccountSort, $includeClosed: Boolean) {
  viewer { account { ... on Manager { subAccounts(first: $first, after: $after, filter: $filter, sort: $sort, includeClosed: $includeClosed) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id email organizationName status } } nodes { id }
  } } } } }`);

let manager: TestAccount;
let subs: TestAccount[];
const tag = unique("tag").replace("-", "");
beforeAll(async () => {
  manager = await createManager();
  subs = [];
  // Created one after another, so creation order is well defined.
  const names = [`Alpha ${tag}`, `beta_${tag}`, `Gamma 100% ${tag}`, `delta ${tag}`, `Epsilon ${tag}`];
  for (const [i, name] of names.entries()) {
    subs.push(await createSubAccount(manager, { email: `${String.fromCharCode(101 - i)}-${tag}@example.com`, organizationName: name }));
  }
  await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), { token: manager.token, variables: { id: subs[4]!.id } });
  await gqlData(graphql(`mutation($id: ID!) { suspendSubAccount(input: { id: $id }) { __typename } }`), {
    token: manager.token,
    variables: { id: subs[3]!.id },
  });
});

/** The manager's sub-accounts page for `variables`. */
const list = async (variables: VariablesOf<typeof LIST>) => {
  const { account } = (await gqlData(LIST, { token: manager.token, variables })).viewer;
  if (!account || !("subAccounts" in account)) throw new Error(`not a manager: ${JSON.stringify(account)}`);
  return account.subAccounts;
};

describe("Manager.subAccounts", () => {
  it("lists newest first by default and leaves closed sub-accounts out", async () => {
    const page = await list({});
    expect(page.totalCount).toBe(4);
    expect(page.nodes.map((n) => n.id)).toEqual([subs[3]!.id, subs[2]!.id, subs[1]!.id, subs[0]!.id]);
  });

  it("includes closed ones with includeClosed or a status filter naming CLOSED", async () => {
    expect((await list({ includeClosed: true })).totalCount).toBe(5);
    const closed = await list({ filter: { status: ["CLOSED"] } });
    expect(closed.nodes.map((n) => n.id)).toEqual([subs[4]!.id]);
    expect((await list({ filter: { status: ["SUSPENDED", "ACTIVE"] } })).totalCount).toBe(4);
    expect((await list({ filter: { status: ["SUSPENDED"] } })).nodes.map((n) => n.id)).toEqual([subs[3]!.id]);
  });

  it("sorts by creation time and by email, both ways", async () => {
    expect((await list({ sort: "CREATED_AT_ASC" })).nodes.map((n) => n.id)).toEqual([subs[0]!.id, subs[1]!.id, subs[2]!.id, subs[3]!.id]);
    const byEmail = (await list({ sort: "EMAIL_ASC" })).edges.map((e) => e.node.email);
    expect(byEmail).toEqual([...byEmail].sort());
    const byEmailDesc = (await list({ sort: "EMAIL_DESC" })).edges.map((e) => e.node.email);
    expect(byEmailDesc).toEqual([...byEmail].reverse());
  });

  it("pages with first/after through every sort without gaps or repeats, with a stable totalCount", async () => {
    for (const sort of ["CREATED_AT_DESC", "CREATED_AT_ASC", "EMAIL_ASC", "EMAIL_DESC"] as const) {
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const page = await list({ first: 3, after, sort, includeClosed: true });
        expect(page.totalCount).toBe(5);
        seen.push(...page.nodes.map((n) => n.id));
        pages++;
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(pages).toBe(2);
      expect(new Set(seen).size).toBe(5);
      expect(seen.sort()).toEqual(subs.map((s) => s.id).sort());
    }
  });

  it("filters by email eq (case-insensitive, on the lowercased email) and contains", async () => {
    const eq = await list({ filter: { email: { eq: subs[1]!.email.toUpperCase() } } });
    expect(eq.nodes.map((n) => n.id)).toEqual([subs[1]!.id]);
    const contains = await list({ filter: { email: { contains: tag.toUpperCase() } } });
    expect(contains.totalCount).toBe(4);
  });

  it("filters by organization name: eq exact, contains case-insensitive with % and _ taken literally", async () => {
    expect((await list({ filter: { organizationName: { eq: `Alpha ${tag}` } } })).totalCount).toBe(1);
    expect((await list({ filter: { organizationName: { eq: `alpha ${tag}` } } })).totalCount).toBe(0);
    expect((await list({ filter: { organizationName: { contains: "ALPHA" } } })).nodes.map((n) => n.id)).toEqual([subs[0]!.id]);
    expect((await list({ filter: { organizationName: { contains: "100%" } } })).nodes.map((n) => n.id)).toEqual([subs[2]!.id]);
    expect((await list({ filter: { organizationName: { contains: "a_t" } } })).nodes.map((n) => n.id)).toEqual([subs[1]!.id]);
    // `%` alone would match everything if it were a wildcard.
    expect((await list({ filter: { organizationName: { contains: "%%%" } } })).totalCount).toBe(0);
    expect((await list({ filter: { organizationName: { contains: "___" } } })).totalCount).toBe(0);
  });

  it("combines filters with AND", async () => {
    const page = await list({ filter: { organizationName: { contains: tag }, status: ["SUSPENDED"] } });
    expect(page.nodes.map((n) => n.id)).toEqual([subs[3]!.id]);
  });

  it.each([0, -1, 251, 100000])("refuses first: %i with BAD_USER_INPUT, never a clamp", async (first) => {
    const res = await gql(LIST, { token: manager.token, variables: { first } });
    expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.data ?? null).toBeNull();
  });

  it("accepts first: 1 and first: 250", async () => {
    expect((await list({ first: 1 })).nodes).toHaveLength(1);
    expect((await list({ first: 250 })).nodes).toHaveLength(4);
  });

  it.each(["garbage", "R1BDOlM6bm90LWEtdXVpZA==", Buffer.from("SubAccount:123").toString("base64"), ""])(
    "refuses a cursor that is not ours (%s) with BAD_USER_INPUT",
    async (after) => {
      const res = await gql(LIST, { token: manager.token, variables: { after } });
      expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    },
  );

  it("refuses contains shorter than 3 characters", async () => {
    const res = await gql(LIST, { token: manager.token, variables: { filter: { email: { contains: "ab" } } } });
    expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors![0]!.message).toMatch(/at least 3/);
  });

  it("applies the page-size rule to every connection, nested ones too", async () => {
    const res = await gql(`{ viewer { account { apiKeys(first: 0) { totalCount } } } }`, { token: manager.token });
    expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    const inFragment = await gql(`query { viewer { ...F } } fragment F on Viewer { account { apiKeys(first: 300) { totalCount } } }`, { token: manager.token });
    expect(errorCodes(inFragment)).toEqual(["BAD_USER_INPUT"]);
  });

  it("treats SQL-looking filter values as plain text", async () => {
    const page = await list({ filter: { organizationName: { contains: "'; DROP TABLE accounts; --" } } });
    expect(page.totalCount).toBe(0);
    expect((await list({})).totalCount).toBe(4);
  });
});
