// A page walks one way from one cursor. Combinations the lists cannot honour
// (Pothos' cursor connections refuse them too) are BAD_USER_INPUT before any
// SQL, never a page that silently ignores one of the arguments.
import { beforeAll, describe, expect, it } from "vitest";
import { gql, gqlData } from "../helpers/app.js";
import { createManager, createSubAccount, type TestAccount } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

/** The manager's side of an account the query read (the account is the manager's here). */
function asManager<T extends object>(account: T | null | undefined): Extract<T, { subAccounts: unknown }> {
  if (!account || !("subAccounts" in account)) throw new Error(`expected the manager's account, got ${JSON.stringify(account)}`);
  // Truthful: only the Manager member of the union has subAccounts.
  return account as Extract<T, { subAccounts: unknown }>;
}

type Edges = { edges: { node: { id: string } }[] };
/** A page built at run time: each call selects one of the two lists, and reads only that one. */
interface BackwardPage {
  viewer: { account: { subAccounts: Edges; auditEvents: Edges } };
}

let manager: TestAccount;

beforeAll(async () => {
  manager = await createManager();
  for (let i = 0; i < 3; i++) await createSubAccount(manager);
});

describe("page arguments the lists cannot combine", () => {
  const LIST = graphql(`query($first: Int, $last: Int, $after: String, $before: String) { viewer { account { ... on Manager {
    subAccounts(first: $first, last: $last, after: $after, before: $before) { nodes { id } } } } } }`);

  it("first with before, last with after, and after with before are BAD_USER_INPUT, never a silent page", async () => {
    const all = asManager((await gqlData(LIST, { token: manager.token, variables: { first: 10 } })).viewer.account).subAccounts.nodes;
    const cursorsRes = await gqlData(graphql(`{ viewer { account { ... on Manager { subAccounts(first: 10) { edges { cursor } } } } } }`), {
      token: manager.token,
    });
    const cursors = asManager(cursorsRes.viewer.account).subAccounts.edges.map((e) => e.cursor);
    expect(all).toHaveLength(3);
    for (const variables of [
      { first: 1, before: cursors[2] },
      { last: 1, after: cursors[0] },
      { after: cursors[0], before: cursors[2] },
    ]) {
      const res = await gql(LIST, { token: manager.token, variables });
      expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify({ variables, body: res.body })).toBe("BAD_USER_INPUT");
    }
  });
});

describe("backwards paging as Relay clients send it", () => {
  it("`last` alone, `before` alone and `last` with `before` page backwards on the plain-SQL lists and on Prisma's connections: first's default steps aside", async () => {
    const all = await gqlData(
      graphql(
        `{ viewer { account { ... on Manager { subAccounts(first: 10) { edges { cursor node { id } } } auditEvents(first: 10) { edges { cursor node { id } } } } } } }`,
      ),
      {
        token: manager.token,
      },
    );
    const account = asManager(all.viewer.account);
    const subs = account.subAccounts.edges;
    const events = account.auditEvents.edges;
    expect(subs).toHaveLength(3);
    expect(events.length).toBeGreaterThanOrEqual(2);
    const ids = (edges: { node: { id: string } }[]) => edges.map((e) => e.node.id);
    const page = async (query: string) =>
      (await gqlData<BackwardPage>(`{ viewer { account { ... on Manager { ${query} } } } }`, { token: manager.token })).viewer.account;

    expect(ids((await page(`subAccounts(last: 2) { edges { node { id } } }`)).subAccounts.edges)).toEqual(ids(subs.slice(-2)));
    expect(ids((await page(`subAccounts(before: "${subs[2]!.cursor}") { edges { node { id } } }`)).subAccounts.edges)).toEqual(ids(subs.slice(0, 2)));
    expect(ids((await page(`subAccounts(last: 1, before: "${subs[2]!.cursor}") { edges { node { id } } }`)).subAccounts.edges)).toEqual(ids(subs.slice(1, 2)));
    expect(ids((await page(`auditEvents(last: 2) { edges { node { id } } }`)).auditEvents.edges)).toEqual(ids(events.slice(-2)));
    expect(ids((await page(`auditEvents(before: "${events[1]!.cursor}") { edges { node { id } } }`)).auditEvents.edges)).toEqual(ids(events.slice(0, 1)));
    expect(ids((await page(`subAccounts(first: null, last: 2, before: "${subs[2]!.cursor}") { edges { node { id } } }`)).subAccounts.edges)).toEqual(
      ids(subs.slice(0, 2)),
    );
  });

  it("a `first` the client gives itself beside `last` or `before` is BAD_USER_INPUT, also when it is 20 or comes from a variable's default", async () => {
    const subs = asManager(
      (await gqlData(graphql(`{ viewer { account { ... on Manager { subAccounts(first: 10) { edges { cursor } } } } } }`), { token: manager.token })).viewer
        .account,
    ).subAccounts.edges;
    expect(subs).toHaveLength(3);
    for (const query of [
      `{ viewer { account { ... on Manager { subAccounts(first: 20, last: 2) { nodes { id } } } } } }`,
      `{ viewer { account { ... on Manager { subAccounts(first: 20, before: "${subs[2]!.cursor}") { nodes { id } } } } } }`,
      `query($f: Int = 20) { viewer { account { ... on Manager { subAccounts(first: $f, last: 2) { nodes { id } } } } } }`,
      `query($f: Int = 5) { viewer { account { auditEvents(first: $f, last: 2) { nodes { id } } } } }`,
    ]) {
      const res = await gql(query, { token: manager.token });
      expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(res.body)).toBe("BAD_USER_INPUT");
    }
  });
});
