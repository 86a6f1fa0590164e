// A field node of a fragment can be merged with other nodes in one place of
// a document and stand alone in another. What a list reads for it (columns,
// totalCount) and the batch it joins must follow the whole merged
// selection, not only the fragment's node.
import { beforeAll, describe, expect, it } from "vitest";
import { gql, gqlData } from "../helpers/app.js";
import { createManager, createSubAccount, type TestAccount } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

let manager: TestAccount;
const emails: string[] = [];

beforeAll(async () => {
  manager = await createManager();
  for (let i = 0; i < 3; i++) emails.push((await createSubAccount(manager)).email);
});

const QUERY = graphql(`query($id: ID!) {
  viewer { account { ...Subs } }
  node(id: $id) { ...Subs ... on Manager { subAccounts(first: 10) { totalCount nodes { email } } } }
}
fragment Subs on Manager { subAccounts(first: 10) { nodes { id } } }`);

/** The manager's part of an account or node the query read (both are the manager here). */
function asManager<T extends object>(value: T | null | undefined): Extract<T, { subAccounts: unknown }> {
  if (!value || !("subAccounts" in value)) throw new Error(`expected the manager, got ${JSON.stringify(value)}`);
  return value as Extract<T, { subAccounts: unknown }>;
}

describe("a fragment's list field merged with other selections", () => {
  it("reads the columns and the count that the merged selection asks for", async () => {
    // Twice: the first request fills the per-document caches.
    for (let i = 0; i < 2; i++) {
      const res = await gql(QUERY, { token: manager.token, variables: { id: manager.id } });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data).toBeDefined();
      const data = res.body.data!;
      const merged = asManager(data.node).subAccounts;
      expect(merged.totalCount).toBe(3);
      // gql.tada types the merged `nodes` by the fragment's selection alone ({ id }), not the
      // merge with the inline fragment's `email`: read it through `in`, so a missing email fails.
      expect([...merged.nodes.map((n) => ("email" in n ? n.email : undefined))].sort()).toEqual([...emails].sort());
      expect(asManager(data.viewer.account).subAccounts.nodes).toHaveLength(3);
    }
  });

  it("the same fragment alone, after the merged use, still answers", async () => {
    const data = await gqlData(QUERY, { token: manager.token, variables: { id: manager.id } });
    expect(asManager(data.node).subAccounts.totalCount).toBe(3);
  });
});
