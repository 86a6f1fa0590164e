// Lists read along with their parents' page (src/read/prefetch.ts): the
// numbers and keys of every sub-account of a page come from the page's own
// statement. Whatever the selection (aliases with different arguments,
// fragments, edges and nodes, backward pages, @skip), each nested list must
// answer exactly what the same list answers on its own, and a mutation must
// never see a list read before it.
import { beforeAll, describe, expect, it } from "vitest";
import { settleKeyUsage } from "../../src/auth/authenticate.js";
import { countStatements, gql, gqlData } from "../helpers/app.js";
import { createApiKey, createManager, createSubAccount, fundCharges, provisionNumber, type TestAccount, uniquePhoneNumber } from "../helpers/factories.js";
import { graphql, type ResultOf } from "../helpers/graphql.js";

// Documents built at run time from NUMBERS and KEYS, typed by what the tests read.
interface NumbersPage {
  totalCount: number;
  edges: { cursor: string; node: { id: string; number: string; status: string } }[];
}
interface Lists {
  numbers: NumbersPage;
  released: NumbersPage;
  apiKeys: { totalCount: number; nodes: { id: string; name: string; prefix: string }[] };
}
interface SubAccountsOf<S> {
  viewer: { account: { subAccounts: S } };
}
/** The result of one provisionPhoneNumber in the mutation document below. */
interface Provisioned {
  phoneNumber: { account: { manager: { subAccounts: { nodes: { id: string; phoneNumbers: { totalCount: number } }[] } } } };
}

let manager: TestAccount;
const subs: TestAccount[] = [];

beforeAll(async () => {
  manager = await createManager();
  for (let i = 0; i < 3; i++) subs.push(await createSubAccount(manager));
  // Different shapes per sub-account: 0, 2 and 4 numbers (one released); 1 to 3 keys (each has its own first key).
  for (let i = 0; i < 2; i++) await provisionNumber(manager.token, subs[1]!.id);
  const released = await provisionNumber(manager.token, subs[2]!.id);
  for (let i = 0; i < 3; i++) await provisionNumber(manager.token, subs[2]!.id);
  const res = await gqlData(graphql(`mutation($input: ReleasePhoneNumberInput!) { releasePhoneNumber(input: $input) { __typename } }`), {
    token: manager.token,
    variables: { input: { id: released.id } },
  });
  expect(res.releasePhoneNumber.__typename).toBe("ReleasePhoneNumberSuccess");
  for (const [i, sub] of subs.entries()) for (let k = 0; k < i; k++) await createApiKey(manager.token, sub.id, `key ${k}`);
});

const NUMBERS = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id number status } }`;
const KEYS = `totalCount nodes { id name prefix }`;

/** What one sub-account's lists answer on their own (through `node`, the batched path). */
async function alone(subId: string, args: { numbers: string; released: string; keys: string }) {
  const data = await gqlData<{ node: Lists }>(
    `query($id: ID!) { node(id: $id) { ... on SubAccount {
      numbers: phoneNumbers${args.numbers} { ${NUMBERS} }
      released: phoneNumbers${args.released} { ${NUMBERS} }
      apiKeys${args.keys} { ${KEYS} } } } }`,
    { token: manager.token, variables: { id: subId } },
  );
  return data.node;
}

describe("lists read along with their parents' page", () => {
  it("answer exactly what each list answers on its own, for aliases with different arguments, fragments and backward pages", async () => {
    const args = { numbers: "(first: 1)", released: "(last: 2, first: null, includeReleased: true)", keys: "(first: 2)" };
    const query = `{ viewer { account { ... on Manager { subAccounts(first: 10, sort: CREATED_AT_ASC) { nodes { id ...Lists } } } } } }
      fragment Lists on SubAccount {
        numbers: phoneNumbers${args.numbers} { ${NUMBERS} }
        released: phoneNumbers${args.released} { ${NUMBERS} }
        ... on Account { apiKeys${args.keys} { ${KEYS} } }
      }`;
    const { result, statements } = await countStatements(() => gqlData<SubAccountsOf<{ nodes: ({ id: string } & Lists)[] }>>(query, { token: manager.token }));
    const nodes = result.viewer.account.subAccounts.nodes;
    expect(nodes.map((n) => n.id)).toEqual(subs.map((s) => s.id));
    for (const node of nodes) {
      const { id, ...lists } = node;
      expect(lists).toEqual(await alone(id, args));
    }
    expect(nodes).toHaveLength(3);
    expect(nodes[2]!.released.totalCount).toBe(4);
    expect(nodes[2]!.released.edges.map((e) => e.node.status)).toContain("RELEASED");
    // Authentication and one statement for the page with all its nested lists.
    expect(statements).toBeLessThanOrEqual(2);
  });

  it("a whole tree of pages, numbers and keys is two statements, however many sub-accounts", async () => {
    const query = graphql(`{ viewer { account { ... on Manager { subAccounts(first: 250) { totalCount edges { node { id
      phoneNumbers { totalCount nodes { number } } apiKeys { totalCount nodes { name } } } } } } } } }`);
    await gqlData(query, { token: manager.token });
    await settleKeyUsage();
    const { result, statements } = await countStatements(() => gqlData(query, { token: manager.token }));
    const account = result.viewer.account;
    if (!account || !("subAccounts" in account)) throw new Error(`expected the manager's account, got ${JSON.stringify(account)}`);
    expect(account.subAccounts.totalCount).toBe(3);
    expect(statements).toBe(2);
  });

  it("leave out a nested list that @skip or @include turns off, and still answer one that is on", async () => {
    const query = graphql(`query($skip: Boolean!) { viewer { account { ... on Manager { subAccounts(first: 10, sort: CREATED_AT_ASC) { nodes {
      phoneNumbers @skip(if: $skip) { totalCount } apiKeys @include(if: $skip) { totalCount } } } } } } }`);
    const nodesOf = (data: ResultOf<typeof query>) => {
      const account = data.viewer.account;
      if (!account || !("subAccounts" in account)) throw new Error(`expected the manager's account, got ${JSON.stringify(account)}`);
      return account.subAccounts.nodes;
    };
    const skipped = await gqlData(query, { token: manager.token, variables: { skip: true } });
    expect(nodesOf(skipped)).toEqual([{ apiKeys: { totalCount: 1 } }, { apiKeys: { totalCount: 2 } }, { apiKeys: { totalCount: 3 } }]);
    const shown = await gqlData(query, { token: manager.token, variables: { skip: false } });
    expect(nodesOf(shown)).toEqual([{ phoneNumbers: { totalCount: 0 } }, { phoneNumbers: { totalCount: 2 } }, { phoneNumbers: { totalCount: 3 } }]);
  });

  it("are read afresh after each mutation of the same document", async () => {
    await fundCharges(subs[0]!.id);
    const tree = `phoneNumber { account { ... on SubAccount { manager { subAccounts(first: 10, sort: CREATED_AT_ASC) { nodes { id phoneNumbers { totalCount } } } } } } }`;
    const res = await gql<{ a: Provisioned; b: Provisioned }>(
      `mutation($a: ProvisionPhoneNumberInput!, $b: ProvisionPhoneNumberInput!) {
        a: provisionPhoneNumber(input: $a) { __typename ... on ProvisionPhoneNumberSuccess { ${tree} } }
        b: provisionPhoneNumber(input: $b) { __typename ... on ProvisionPhoneNumberSuccess { ${tree} } } }`,
      {
        token: manager.token,
        variables: { a: { accountId: subs[0]!.id, number: uniquePhoneNumber() }, b: { accountId: subs[0]!.id, number: uniquePhoneNumber() } },
      },
    );
    expect(res.body.errors).toBeUndefined();
    const countAfter = (field: "a" | "b") =>
      res.body.data?.[field].phoneNumber.account.manager.subAccounts.nodes.find((n) => n.id === subs[0]!.id)?.phoneNumbers.totalCount;
    expect(countAfter("a")).toBe(1);
    expect(countAfter("b")).toBe(2);
  });
});
