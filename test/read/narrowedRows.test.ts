// The tree's lists read as little as a query needs (src/read/pages.ts,
// columns.ts, schema/connections.ts, http/compiledExecution.ts): the parent
// column filled in from the parent, a page's nodes as its rows (edges and
// pageInfo built only when read), number and key ids read only when needed,
// and stored scalars passed through. Every answer is checked against the database through
// Prisma, which shares none of the plain-SQL read code.
import { formatPrismaCursor } from "@pothos/plugin-prisma";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { errorCodes, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createApiKey, createManager, createSubAccount, provisionNumber, type TestAccount } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";

/**
 * The member of a result union that has `key` (the part of an `... on X`
 * spread the query read), or a thrown error naming what came instead.
 */
function having<T extends object, K extends string>(value: T | null | undefined, key: K): Extract<T, Record<K, unknown>> {
  if (!value || !(key in value)) throw new Error(`expected a result with ${key}, got ${JSON.stringify(value)}`);
  // Truthful: `key in value` held, and only the union's members with `key` have it.
  return value as Extract<T, Record<K, unknown>>;
}

/** A list item with whatever the selection built at run time asked (compared whole). */
type Row = { id: string } & Record<string, unknown>;
/** A document built at run time that lists the manager's sub-accounts, each as `S`. */
interface SubAccountsOf<S> {
  viewer: { account: { subAccounts: { nodes: S[] } } };
}

let manager: TestAccount;
let other: TestAccount;
let otherSub: TestAccount;
/** `busy` has numbers (one released) and keys (one revoked); `empty` has none of its own numbers. */
let busy: TestAccount;
let empty: TestAccount;

const cursor = (id: string) => formatPrismaCursor({ id }, "id");
const NEWEST_FIRST = [{ createdAt: "desc" as const }, { id: "desc" as const }];

/** The rows of a list as the database holds them, newest first. */
async function numbersOf(account: TestAccount, includeReleased = false) {
  return prisma.phoneNumber.findMany({
    where: { accountId: dbId(account.id), ...(includeReleased ? {} : { status: "ACTIVE" }) },
    orderBy: NEWEST_FIRST,
  });
}
async function keysOf(account: TestAccount, includeRevoked = false) {
  return prisma.apiKey.findMany({ where: { accountId: dbId(account.id), ...(includeRevoked ? {} : { revokedAt: null }) }, orderBy: NEWEST_FIRST });
}

beforeAll(async () => {
  manager = await createManager();
  other = await createManager();
  busy = await createSubAccount(manager);
  empty = await createSubAccount(manager);
  otherSub = await createSubAccount(other);
  for (let i = 0; i < 4; i++) await provisionNumber(manager.token, busy.id);
  const released = await provisionNumber(manager.token, busy.id);
  const r = await gqlData(graphql(`mutation($id: ID!) { releasePhoneNumber(input: { id: $id }) { __typename } }`), {
    token: manager.token,
    variables: { id: released.id },
  });
  expect(r.releasePhoneNumber.__typename).toBe("ReleasePhoneNumberSuccess");
  await createApiKey(manager.token, busy.id, "second");
  const revoked = await createApiKey(manager.token, busy.id, "revoked");
  const k = await gqlData(graphql(`mutation($id: ID!) { revokeApiKey(input: { id: $id }) { __typename } }`), {
    token: manager.token,
    variables: { id: revoked.id },
  });
  expect(k.revokeApiKey.__typename).toBe("RevokeApiKeySuccess");
  await provisionNumber(other.token, otherSub.id);
  await provisionNumber(manager.token, manager.id);
});

/** One query's `phoneNumbers(<args>) { <selection> }` for every sub-account of the manager's tree, by sub-account id. */
async function treeLists<P>(list: "phoneNumbers" | "apiKeys", args: string, selection: string, variables: Record<string, unknown> = {}, header = "") {
  const data = await gqlData<SubAccountsOf<{ id: string } & Record<typeof list, P>>>(
    `query${header} { viewer { account { ... on Manager { subAccounts(first: 10, sort: CREATED_AT_ASC) { nodes { id ${list}${args} { ${selection} } } } } } } }`,
    { token: manager.token, variables },
  );
  const lists = new Map(data.viewer.account.subAccounts.nodes.map((n) => [n.id, n[list]]));
  return {
    get(id: string): P {
      const found = lists.get(id);
      if (found === undefined) throw new Error(`no ${list} for ${id} in the tree`);
      return found;
    },
  };
}

describe("tree lists answer what the database holds, whatever the query asks of them", () => {
  it("ids, cursors and pageInfo of numbers and keys, asked in every shape the column narrowing distinguishes", async () => {
    const numbers = await numbersOf(busy, true);
    const keys = await keysOf(busy, true);
    expect(numbers).toHaveLength(5);
    expect(keys).toHaveLength(3);
    const cases: [string, string, (rows: { id: string }[]) => unknown][] = [
      ["totalCount", "totalCount", (rows) => ({ totalCount: rows.length })],
      ["__typename only", "nodes { __typename }", (rows) => ({ nodes: rows.map(() => ({ __typename: expect.any(String) })) })],
      ["edges without node", "edges { cursor }", (rows) => ({ edges: rows.map((r) => ({ cursor: cursor(r.id) })) })],
      ["edges with __typename only", "edges { __typename }", (rows) => ({ edges: rows.map(() => ({ __typename: expect.any(String) })) })],
      [
        "pageInfo alone",
        "pageInfo { startCursor endCursor hasNextPage hasPreviousPage }",
        (rows) => ({ pageInfo: { startCursor: cursor(rows[0]!.id), endCursor: cursor(rows.at(-1)!.id), hasNextPage: false, hasPreviousPage: false } }),
      ],
      ["ids through Node", "nodes { ... on Node { id } }", (rows) => ({ nodes: rows.map((r) => ({ id: globalIdOf(r) })) })],
      ["ids through a named fragment", "nodes { ...Ids }", (rows) => ({ nodes: rows.map((r) => ({ id: globalIdOf(r) })) })],
      ["edge nodes' ids without cursors", "edges { node { id } }", (rows) => ({ edges: rows.map((r) => ({ node: { id: globalIdOf(r) } })) })],
      ["the holder, from the filled-in parent column", "nodes { account { id } }", (rows) => ({ nodes: rows.map(() => ({ account: { id: busy.id } })) })],
    ];
    let typename = "PhoneNumber";
    const globalIdOf = (r: { id: string }) => encodeGlobalID(typename, r.id);
    for (const [list, args, rows, type] of [
      ["phoneNumbers", "(first: 10, includeReleased: true)", numbers, "PhoneNumber"],
      ["apiKeys", "(first: 10, includeRevoked: true)", keys, "ApiKey"],
    ] as const) {
      typename = type;
      for (const [name, selection, expected] of cases) {
        const fragment = name.includes("named fragment") ? ` fragment Ids on Node { id }` : "";
        const data = await gqlData<SubAccountsOf<Row>>(
          `{ viewer { account { ... on Manager { subAccounts(first: 10, sort: CREATED_AT_ASC) { nodes { id ${list}${args} { ${selection} } } } } } } }${fragment}`,
          { token: manager.token },
        );
        const byId = new Map(data.viewer.account.subAccounts.nodes.map((n) => [n.id, n[list]]));
        expect(byId.get(busy.id), `${list}: ${name}`).toEqual(expected(rows));
        // The same list read on its own (through node), not along with a page.
        const alone = await gqlData<{ node: Record<string, unknown> }>(
          `query($id: ID!) { node(id: $id) { ... on SubAccount { ${list}${args} { ${selection} } } } }${fragment}`,
          {
            token: manager.token,
            variables: { id: busy.id },
          },
        );
        expect(alone.node[list], `${list} alone: ${name}`).toEqual(expected(rows));
      }
    }
  });

  it("walks every number forwards and backwards with cursors from pageInfo alone, never asking for ids", async () => {
    const truth = (await numbersOf(busy, true)).map((n) => n.number);
    const forward: string[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page = (
        await treeLists<{ nodes: { number: string }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean; hasPreviousPage: boolean } }>(
          "phoneNumbers",
          "(first: 2, after: $after, includeReleased: true)",
          "nodes { number } pageInfo { endCursor hasNextPage hasPreviousPage }",
          { after },
          "($after: String)",
        )
      ).get(busy.id);
      forward.push(...page.nodes.map((n) => n.number));
      expect(page.pageInfo.hasPreviousPage).toBe(after != null);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(forward).toEqual(truth);

    const backward: string[] = [];
    let before: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page = (
        await treeLists<{ edges: { node: { number: string } }[]; pageInfo: { startCursor: string | null; hasNextPage: boolean; hasPreviousPage: boolean } }>(
          "phoneNumbers",
          "(first: null, last: 2, before: $before, includeReleased: true)",
          "edges { node { number } } pageInfo { startCursor hasNextPage hasPreviousPage }",
          { before },
          "($before: String)",
        )
      ).get(busy.id);
      backward.unshift(...page.edges.map((e) => e.node.number));
      expect(page.pageInfo.hasNextPage).toBe(before != null);
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(backward).toEqual(truth);
  });

  it("@include and @skip on ids, edges and pageInfo answer the same values either way", async () => {
    const numbers = await numbersOf(busy);
    const query = `($withId: Boolean!, $withEdges: Boolean!)`;
    const selection = `nodes { number id @include(if: $withId) } edges @include(if: $withEdges) { cursor } pageInfo @skip(if: $withEdges) { endCursor }`;
    for (const withId of [true, false]) {
      for (const withEdges of [true, false]) {
        const page = (
          await treeLists<{ nodes: unknown; edges?: unknown; pageInfo?: unknown }>("phoneNumbers", "(first: 10)", selection, { withId, withEdges }, query)
        ).get(busy.id);
        expect(page.nodes).toEqual(numbers.map((n) => (withId ? { number: n.number, id: encodeGlobalID("PhoneNumber", n.id) } : { number: n.number })));
        if (withEdges) expect(page.edges).toEqual(numbers.map((n) => ({ cursor: cursor(n.id) })));
        else expect(page.pageInfo).toEqual({ endCursor: cursor(numbers.at(-1)!.id) });
      }
    }
  });

  it("aliases of one list with different arguments and selections, side by side under one parent", async () => {
    const active = await numbersOf(busy);
    const all = await numbersOf(busy, true);
    const keys = await keysOf(busy);
    const data = await gqlData(
      graphql(`{ viewer { account { ... on Manager { subAccounts(first: 10, sort: CREATED_AT_ASC) { nodes { id
         a: phoneNumbers(first: 1) { nodes { number } }
         b: phoneNumbers(first: 1) { nodes { id } pageInfo { hasNextPage endCursor } }
         c: phoneNumbers(first: null, last: 2, includeReleased: true) { edges { cursor } totalCount }
         d: phoneNumbers { totalCount }
         k1: apiKeys { nodes { prefix } }
         k2: apiKeys(first: 1) { edges { node { account { id } } } }
       } } } } } }`),
      { token: manager.token },
    );
    const subAccounts = having(data.viewer.account, "subAccounts").subAccounts.nodes;
    const found = subAccounts.find((n) => n.id === busy.id);
    expect(found).toBeDefined();
    const node = found!;
    expect(node.a).toEqual({ nodes: [{ number: active[0]!.number }] });
    expect(node.b).toEqual({
      nodes: [{ id: encodeGlobalID("PhoneNumber", active[0]!.id) }],
      pageInfo: { hasNextPage: true, endCursor: cursor(active[0]!.id) },
    });
    expect(node.c).toEqual({ edges: all.slice(-2).map((n) => ({ cursor: cursor(n.id) })), totalCount: all.length });
    expect(node.d).toEqual({ totalCount: active.length });
    expect(node.k1).toEqual({ nodes: keys.map((k) => ({ prefix: k.prefix })) });
    expect(node.k2).toEqual({ edges: [{ node: { account: { id: busy.id } } }] });
    const foundEmpty = subAccounts.find((n) => n.id === empty.id);
    expect(foundEmpty).toBeDefined();
    const emptyNode = foundEmpty!;
    expect(emptyNode.a).toEqual({ nodes: [] });
    expect(emptyNode.b).toEqual({ nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
    expect(emptyNode.d).toEqual({ totalCount: 0 });
  });

  it("the same list in two places of a document (one read along with a page, one on its own) with the same selection", async () => {
    const numbers = await numbersOf(busy);
    const data = await gqlData(
      graphql(`query($id: ID!) { node(id: $id) { ... on SubAccount { phoneNumbers { nodes { number account { id } } } } }
         viewer { account { ... on Manager { subAccounts(first: 10) { nodes { id phoneNumbers { nodes { number account { id } } } } } } } } }`),
      { token: manager.token, variables: { id: busy.id } },
    );
    const expected = { nodes: numbers.map((n) => ({ number: n.number, account: { id: busy.id } })) };
    expect(having(data.node, "phoneNumbers").phoneNumbers).toEqual(expected);
    const inTree = having(data.viewer.account, "subAccounts").subAccounts.nodes.find((n) => n.id === busy.id);
    expect(inTree).toBeDefined();
    expect(inTree!.phoneNumbers).toEqual(expected);
  });

  it("the manager's own numbers, and a number's holder read whole through it, name the right account", async () => {
    const mine = await numbersOf(manager);
    const data = await gqlData(
      graphql(`{ viewer { account { id phoneNumbers { nodes { number account { id email ... on Manager { subAccounts(first: 10) { totalCount } } } } } } } }`),
      { token: manager.token },
    );
    expect(data.viewer.account).not.toBeNull();
    expect(data.viewer.account!.phoneNumbers.nodes).toEqual(
      mine.map((n) => ({ number: n.number, account: { id: manager.id, email: manager.email, subAccounts: { totalCount: 2 } } })),
    );
  });

  it("a sub-account's holder fields (manager, managerEmail, effectiveStatus) come from the filled-in manager id", async () => {
    const data = await gqlData(
      graphql(`{ viewer { account { ... on Manager { subAccounts(first: 10) { nodes { id managerEmail effectiveStatus manager { id email }
         phoneNumbers { nodes { account { ... on SubAccount { id managerEmail manager { id } } } } } } } } } } }`),
      { token: manager.token },
    );
    for (const node of having(data.viewer.account, "subAccounts").subAccounts.nodes) {
      expect(node).toMatchObject({ managerEmail: manager.email, effectiveStatus: "ACTIVE", manager: { id: manager.id, email: manager.email } });
      for (const n of node.phoneNumbers.nodes) expect(n.account).toEqual({ id: node.id, managerEmail: manager.email, manager: { id: manager.id } });
    }
  });

  it("a mutation's result lists the holder's numbers and keys as they are after the write", async () => {
    const added = await provisionNumber(manager.token, empty.id);
    const res = await gqlData(
      graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeySuccess { apiKey { id account { id
          apiKeys { totalCount edges { cursor node { id account { id } } } }
          phoneNumbers { nodes { number } pageInfo { endCursor } } } } } } }`),
      { token: manager.token, variables: { input: { accountId: empty.id, name: "from a mutation" } } },
    );
    const keys = await keysOf(empty);
    const { apiKey } = having(res.createApiKey, "apiKey");
    const account = apiKey.account;
    expect(account.id).toBe(empty.id);
    expect(account.apiKeys).toEqual({
      totalCount: keys.length,
      edges: keys.map((k) => ({ cursor: cursor(k.id), node: { id: encodeGlobalID("ApiKey", k.id), account: { id: empty.id } } })),
    });
    expect(account.apiKeys.edges.map((e) => e.node.id)).toContain(apiKey.id);
    expect(account.phoneNumbers).toEqual({ nodes: [{ number: added.number }], pageInfo: { endCursor: cursor(dbId(added.id)) } });
  });
});

describe("who sees what through the narrowed lists", () => {
  it("a sub-account sees its own numbers and keys, each naming itself, and cursors that page on", async () => {
    const numbers = await numbersOf(busy);
    const keys = await keysOf(busy);
    const data = await gqlData(
      graphql(`{ viewer { account { id ... on SubAccount { managerEmail }
          phoneNumbers(first: 2) { nodes { number account { id } } pageInfo { endCursor hasNextPage } }
          apiKeys { edges { cursor node { prefix account { id email } } } } } } }`),
      { token: busy.token },
    );
    const account = having(data.viewer.account, "managerEmail");
    expect(account.id).toBe(busy.id);
    expect(account.managerEmail).toBe(manager.email);
    expect(account.phoneNumbers).toEqual({
      nodes: numbers.slice(0, 2).map((n) => ({ number: n.number, account: { id: busy.id } })),
      pageInfo: { endCursor: cursor(numbers[1]!.id), hasNextPage: true },
    });
    expect(account.apiKeys.edges).toEqual(keys.map((k) => ({ cursor: cursor(k.id), node: { prefix: k.prefix, account: { id: busy.id, email: busy.email } } })));
    const next = await gqlData(graphql(`query($after: String) { viewer { account { phoneNumbers(first: 10, after: $after) { nodes { number } } } } }`), {
      token: busy.token,
      variables: { after: account.phoneNumbers.pageInfo.endCursor },
    });
    expect(next.viewer.account).not.toBeNull();
    expect(next.viewer.account!.phoneNumbers.nodes.map((n) => n.number)).toEqual(numbers.slice(2).map((n) => n.number));
  });

  it("a sibling, a sub-account and a foreign manager cannot page another tree's lists with its cursors", async () => {
    const numbers = await numbersOf(busy);
    const foreignCursor = (await treeLists<{ pageInfo: { endCursor: string | null } }>("phoneNumbers", "(first: 1)", "pageInfo { endCursor }")).get(busy.id)
      .pageInfo.endCursor;
    expect(foreignCursor).toBe(cursor(numbers[0]!.id));
    const list = graphql(`query($after: String) { viewer { account { phoneNumbers(after: $after) { nodes { number account { id } } } } } }`);
    for (const token of [empty.token, otherSub.token, other.token]) {
      const res = await gql(list, { token, variables: { after: foreignCursor } });
      expect(errorCodes(res), JSON.stringify(res.body)).toEqual(["BAD_USER_INPUT"]);
      expect(res.body.data ?? null).toBeNull();
    }
    // And the foreign manager's own tree lists only its own rows.
    const theirs = await gqlData(
      graphql(
        `{ viewer { account { ... on Manager { subAccounts(first: 10) { nodes { id phoneNumbers { nodes { number account { id } } } apiKeys { nodes { account { id } } } } } } } } }`,
      ),
      { token: other.token },
    );
    const otherNumbers = await numbersOf(otherSub);
    expect(having(theirs.viewer.account, "subAccounts").subAccounts.nodes).toEqual([
      {
        id: otherSub.id,
        phoneNumbers: { nodes: otherNumbers.map((n) => ({ number: n.number, account: { id: otherSub.id } })) },
        apiKeys: { nodes: (await keysOf(otherSub)).map(() => ({ account: { id: otherSub.id } })) },
      },
    ]);
  });
});

/** A manager's page of sub-accounts as the document built at run time below asks it (totalCount only when asked). */
interface ManagerPage {
  totalCount?: number;
  nodes: {
    id: string;
    managerEmail: string;
    manager: { id: string };
    phoneNumbers: { totalCount?: number; nodes: unknown[] };
    apiKeys: { nodes: unknown[] };
  }[];
}

describe("pages of several parents in one statement", () => {
  it("each sub-account of two managers' pages (with and without totalCount) names its own manager, and each number its own holder", async () => {
    for (const count of ["totalCount", ""]) {
      const data = await gqlData<{ nodes: ({ id: string; subAccounts: ManagerPage } | null)[] }>(
        `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Manager { id subAccounts(first: 10) { ${count} nodes { id managerEmail manager { id }
           phoneNumbers(includeReleased: true) { ${count} nodes { account { id } } } apiKeys { nodes { account { id } } } } } } } }`,
        { token: OPERATOR_TOKEN, variables: { ids: [manager.id, other.id] } },
      );
      const [mine, theirs] = data.nodes;
      if (!mine || !theirs) throw new Error(`expected both managers, got ${JSON.stringify(data.nodes)}`);
      expect(mine.id).toBe(manager.id);
      expect(theirs.id).toBe(other.id);
      for (const [m, subs] of [
        [manager, [busy, empty]],
        [other, [otherSub]],
      ] as const) {
        const page = (m === manager ? mine : theirs).subAccounts;
        expect(new Set(page.nodes.map((n) => n.id))).toEqual(new Set(subs.map((s) => s.id)));
        if (count) expect(page.totalCount).toBe(subs.length);
        for (const node of page.nodes) {
          expect(node.managerEmail).toBe(m.email);
          expect(node.manager).toEqual({ id: m.id });
          const sub = subs.find((s) => s.id === node.id)!;
          expect(node.phoneNumbers.nodes).toEqual((await numbersOf(sub, true)).map(() => ({ account: { id: sub.id } })));
          if (count) expect(node.phoneNumbers.totalCount).toBe(node.phoneNumbers.nodes.length);
          expect(node.apiKeys.nodes).toEqual((await keysOf(sub)).map(() => ({ account: { id: sub.id } })));
        }
      }
    }
  });
});

describe("lists inside a document of several mutations", () => {
  it("each mutation's result lists the keys as they are after it, with cursors and ids, not as an earlier field read them", async () => {
    const sub = await createSubAccount(manager);
    const before = await keysOf(sub);
    const res = await gqlData(
      graphql(`mutation($create: CreateApiKeyInput!, $revoke: ID!) {
        a: createApiKey(input: $create) { ... on CreateApiKeySuccess { apiKey { id account { apiKeys { totalCount nodes { id } pageInfo { endCursor } } } } } }
        b: revokeApiKey(input: { id: $revoke }) { ... on RevokeApiKeySuccess { apiKey { account { apiKeys { totalCount edges { cursor } nodes { prefix } } } } } } }`),
      { token: manager.token, variables: { create: { accountId: sub.id, name: "third" }, revoke: sub.keyId } },
    );
    const a = having(res.a, "apiKey");
    const b = having(res.b, "apiKey");
    const created = a.apiKey.id;
    const afterA = [created, ...before.map((k) => encodeGlobalID("ApiKey", k.id))];
    expect(a.apiKey.account.apiKeys).toEqual({ totalCount: 2, nodes: afterA.map((id) => ({ id })), pageInfo: { endCursor: cursor(before.at(-1)!.id) } });
    const afterB = await keysOf(sub);
    expect(afterB.map((k) => encodeGlobalID("ApiKey", k.id))).toEqual([created]);
    expect(b.apiKey.account.apiKeys).toEqual({ totalCount: 1, edges: [{ cursor: cursor(afterB[0]!.id) }], nodes: [{ prefix: afterB[0]!.prefix }] });
  });
});
