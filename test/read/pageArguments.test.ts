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
    const cursorsRes = await gqlData(
      `{ viewer { account { ... on Manager { subAccounts(first: 10) { edges { cursor } } } } } }`,
      { token: manager.token },
    );
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

describe("before with first's default", () => {
  it("is the same BAD_USER_INPUT on the plain-SQL lists and on Prisma's connections (never an unexpected error); with first: null and last it pages", async () => {
    const all = await gqlData(`{ viewer { account { ... on Manager { subAccounts(first: 10) { edges { cursor node { id } } } auditEvents(first: 10) { edges { cursor } } } } } }`, {
      token: manager.token,
    });
    const subs = all.viewer.account.subAccounts.edges;
    const events = all.viewer.account.auditEvents.edges;
    for (const query of [
      `{ viewer { account { ... on Manager { subAccounts(before: "${subs[2].cursor}") { nodes { id } } } } } }`,
      `{ viewer { account { auditEvents(before: "${events[1].cursor}") { nodes { id } } } } }`,
    ]) {
      const res = await gql(query, { token: manager.token });
      expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(res.body)).toBe("BAD_USER_INPUT");
    }
    const page = await gqlData(`{ viewer { account { ... on Manager { subAccounts(first: null, last: 2, before: "${subs[2].cursor}") { nodes { id } } } } } }`, {
      token: manager.token,
    });
    expect(page.viewer.account.subAccounts.nodes.map((n: { id: string }) => n.id)).toEqual(subs.slice(0, 2).map((e: any) => e.node.id));
  });
});
