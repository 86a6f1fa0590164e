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
