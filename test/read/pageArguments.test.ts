// A page walks one way from one cursor. Combinations the lists cannot honour
// (Pothos' cursor connections refuse them too) are BAD_USER_INPUT before any
// SQL, never a page that silently ignores one of the arguments.
import { beforeAll, describe, expect, it } from "vitest";
import { gql, gqlData } from "../helpers/app.js";
import { createManager, createSubAccount, type TestAccount } from "../helpers/factories.js";

let manager: TestAccount;

beforeAll(async () => {
  manager = await createManager();
  for (let i = 0; i < 3; i++) await createSubAccount(manager);
});

describe("page arguments the lists cannot combine", () => {
  const LIST = `query($first: Int, $last: Int, $after: String, $before: String) { viewer { account { ... on Manager {
    subAccounts(first: $first, last: $last, after: $after, before: $before) { nodes { id } } } } } }`;

  it("first with before, last with after, and after with before are BAD_USER_INPUT, never a silent page", async () => {
    const all = (await gqlData(LIST, { token: manager.token, variables: { first: 10 } })).viewer.account.subAccounts.nodes;
    const cursorsRes = await gqlData(`{ viewer { account { ... on Manager { subAccounts(first: 10) { edges { cursor } } } } } }`, { token: manager.token });
    const cursors = cursorsRes.viewer.account.subAccounts.edges.map((e: { cursor: string }) => e.cursor);
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
      `{ viewer { account { ... on Manager { subAccounts(first: 10) { edges { cursor node { id } } } auditEvents(first: 10) { edges { cursor node { id } } } } } } }`,
      {
        token: manager.token,
      },
    );
    const subs = all.viewer.account.subAccounts.edges;
    const events = all.viewer.account.auditEvents.edges;
    const ids = (edges: { node: { id: string } }[]) => edges.map((e) => e.node.id);
    const page = async (query: string) => (await gqlData(`{ viewer { account { ... on Manager { ${query} } } } }`, { token: manager.token })).viewer.account;

    expect(ids((await page(`subAccounts(last: 2) { edges { node { id } } }`)).subAccounts.edges)).toEqual(ids(subs.slice(-2)));
    expect(ids((await page(`subAccounts(before: "${subs[2].cursor}") { edges { node { id } } }`)).subAccounts.edges)).toEqual(ids(subs.slice(0, 2)));
    expect(ids((await page(`subAccounts(last: 1, before: "${subs[2].cursor}") { edges { node { id } } }`)).subAccounts.edges)).toEqual(ids(subs.slice(1, 2)));
    expect(ids((await page(`auditEvents(last: 2) { edges { node { id } } }`)).auditEvents.edges)).toEqual(ids(events.slice(-2)));
    expect(ids((await page(`auditEvents(before: "${events[1].cursor}") { edges { node { id } } }`)).auditEvents.edges)).toEqual(ids(events.slice(0, 1)));
    expect(ids((await page(`subAccounts(first: null, last: 2, before: "${subs[2].cursor}") { edges { node { id } } }`)).subAccounts.edges)).toEqual(
      ids(subs.slice(0, 2)),
    );
  });

  it("a `first` the client gives itself beside `last` or `before` is BAD_USER_INPUT, also when it is 20 or comes from a variable's default", async () => {
    const subs = (await gqlData(`{ viewer { account { ... on Manager { subAccounts(first: 10) { edges { cursor } } } } } }`, { token: manager.token })).viewer
      .account.subAccounts.edges;
    for (const query of [
      `{ viewer { account { ... on Manager { subAccounts(first: 20, last: 2) { nodes { id } } } } } }`,
      `{ viewer { account { ... on Manager { subAccounts(first: 20, before: "${subs[2].cursor}") { nodes { id } } } } } }`,
      `query($f: Int = 20) { viewer { account { ... on Manager { subAccounts(first: $f, last: 2) { nodes { id } } } } } }`,
      `query($f: Int = 5) { viewer { account { auditEvents(first: $f, last: 2) { nodes { id } } } } }`,
    ]) {
      const res = await gql(query, { token: manager.token });
      expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(res.body)).toBe("BAD_USER_INPUT");
    }
  });
});
