// Review of the lists read along with their parents' page (src/read/prefetch.ts,
// src/read/pages.ts): shapes of queries that the nested read must answer
// exactly as each list answers on its own.
import { beforeAll, describe, expect, it } from "vitest";
import { countStatements, gql, gqlData } from "../helpers/app.js";
import { createApiKey, createManager, createSubAccount, provisionNumber, type TestAccount } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

/** A sub-account's item with whatever lists the selection built at run time asked (compared whole). */
type Item = { id: string } & Record<string, unknown>;

let manager: TestAccount;
const subs: TestAccount[] = [];

beforeAll(async () => {
  manager = await createManager();
  for (let i = 0; i < 2; i++) subs.push(await createSubAccount(manager));
  for (let i = 0; i < 2; i++) await provisionNumber(manager.token, subs[1]!.id);
  await createApiKey(manager.token, subs[1]!.id, "second");
});

/** What one sub-account's fragment answers on its own (through `node`). */
async function alone(id: string, fragment: string) {
  const data = await gqlData<{ node: Record<string, unknown> }>(`query($id: ID!) { node(id: $id) { ...F } } fragment F on SubAccount { ${fragment} }`, {
    token: manager.token,
    variables: { id },
  });
  return data.node;
}

describe("lists read along with their parents' page (review)", () => {
  it("a page whose items ask for more nested lists than one SQL function takes arguments (100) still answers", async () => {
    // Valid under every query limit: 30 aliases, each a `nodes` with its own pages of numbers and keys.
    const block = (i: number) => `phoneNumbers(first: ${i + 1}) { totalCount } apiKeys(first: ${i + 1}) { totalCount }`;
    const blocks = Array.from({ length: 30 }, (_, i) => `n${i}: nodes { id ${block(i)} }`).join("\n");
    const res = await gql<{ viewer: { account: { subAccounts: Record<string, Item[]> } } }>(
      `{ viewer { account { ... on Manager { subAccounts(first: 10, sort: CREATED_AT_ASC) { ${blocks} } } } } }`,
      {
        token: manager.token,
      },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toBeDefined();
    const page = res.body.data!.viewer.account.subAccounts;
    for (let i = 0; i < 30; i++) {
      const nodes = page[`n${i}`];
      if (!nodes) throw new Error(`no n${i} in ${JSON.stringify(page)}`);
      expect(nodes.map((n) => n.id)).toEqual(subs.map((s) => s.id));
      for (const { id, ...lists } of nodes) expect(lists).toEqual(await alone(id, block(i)));
    }
    expect(page.n0?.[1]).toMatchObject({ phoneNumbers: { totalCount: 2 }, apiKeys: { totalCount: 2 } });
  });

  it("read a nested list along when the items' selection comes from several `nodes` the executor merges (a fragment on the connection)", async () => {
    const query =
      graphql(`{ viewer { account { ... on Manager { subAccounts(first: 10, sort: CREATED_AT_ASC) { ...Numbers nodes { id phoneNumbers { totalCount } } } } } } }
      fragment Numbers on SubAccountConnection { nodes { phoneNumbers { nodes { number } } } }`);
    await gqlData(query, { token: manager.token });
    const { result, statements } = await countStatements(() => gqlData(query, { token: manager.token }));
    const account = result.viewer.account;
    if (!account || !("subAccounts" in account)) throw new Error(`expected the manager's account, got ${JSON.stringify(account)}`);
    const nodes = account.subAccounts.nodes;
    for (const { id, ...lists } of nodes) expect(lists).toEqual(await alone(id, "phoneNumbers { totalCount nodes { number } }"));
    expect(nodes).toHaveLength(2);
    expect(nodes[1]!.phoneNumbers.totalCount).toBe(2);
    // Authentication, then the page with every sub-account's numbers.
    expect(statements).toBe(2);
  });
});
