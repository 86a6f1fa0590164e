// Every argument rule, whichever way its value arrives (DOMAIN.md: "Values
// however they arrive"): a literal, a request variable, a variable's default
// written in the document (nullable- or non-null-typed), a variable inside an
// input object or a list. A refused value is BAD_USER_INPUT (QUERY_TOO_COMPLEX
// for the cost), HTTP 200, no data, and no SQL beyond authentication; a
// cursor out of the caller's reach answers exactly like a cursor of a row
// that never existed. A valid value pages the same in every form.
//
// The connections are enumerated from the printed per-role schemas
// (schemas/*.graphql), so a new connection field is covered by this matrix,
// or fails the "every connection has a path" test until it is.

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { buildSchema, type GraphQLSchema, getNamedType, isInterfaceType, isObjectType } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { parseGlobalId } from "../../src/schema/globalIds.js";
import { countStatements, errorCodes, type GqlResponse, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, createWorld, fundCharges, provisionNumber, type TestAccount, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

// ---------------------------------------------------------------- helpers

type Role = "OPERATOR" | "MANAGER" | "SUB_ACCOUNT";
const SCHEMA_FILES: Record<Role, string> = {
  OPERATOR: "schemas/operator.graphql",
  MANAGER: "schemas/manager.graphql",
  SUB_ACCOUNT: "schemas/sub-account.graphql",
};
const roleSchema = (role: Role): GraphQLSchema => buildSchema(readFileSync(new URL(`../../${SCHEMA_FILES[role]}`, import.meta.url), "utf8"));

/** Every `*Connection` field of a role's schema, as "Parent.field" with the node type it lists. */
function connectionFields(role: Role): { parent: string; field: string; nodeType: string }[] {
  const schema = roleSchema(role);
  const out: { parent: string; field: string; nodeType: string }[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__") || !(isObjectType(type) || isInterfaceType(type))) continue;
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type).name;
      if (named.endsWith("Connection")) out.push({ parent: type.name, field: field.name, nodeType: named.slice(0, -"Connection".length) });
    }
  }
  return out;
}

/** Who reads a list: a token and the ids the wrappers below name. */
interface Subject {
  token: string;
  managerId?: string;
  subId?: string;
  /** A webhook endpoint of the subject's own account (the parent of WebhookEndpoint.deliveries). */
  endpointId?: string;
}

/**
 * How a role reaches a connection field of each parent type: the selection
 * around `inner` (the field with its arguments and selection). A parent type
 * missing here fails "every connection field has a path".
 */
const PATHS: Record<Role, Record<string, (s: Subject, inner: string) => string>> = {
  OPERATOR: {
    Query: (_s, inner) => inner,
    Account: (s, inner) => `node(id: "${s.managerId}") { ... on Account { ${inner} } }`,
    Manager: (s, inner) => `node(id: "${s.managerId}") { ... on Manager { ${inner} } }`,
    SubAccount: (s, inner) => `node(id: "${s.subId}") { ... on SubAccount { ${inner} } }`,
    Balance: (s, inner) => `node(id: "${s.managerId}") { ... on Manager { balance { ${inner} } } }`,
    WebhookEndpoint: (s, inner) => `node(id: "${s.endpointId}") { ... on WebhookEndpoint { ${inner} } }`,
  },
  MANAGER: {
    Account: (_s, inner) => `viewer { account { ${inner} } }`,
    Manager: (_s, inner) => `viewer { account { ... on Manager { ${inner} } } }`,
    SubAccount: (s, inner) => `node(id: "${s.subId}") { ... on SubAccount { ${inner} } }`,
    Balance: (_s, inner) => `viewer { account { balance { ${inner} } } }`,
    WebhookEndpoint: (s, inner) => `node(id: "${s.endpointId}") { ... on WebhookEndpoint { ${inner} } }`,
  },
  SUB_ACCOUNT: {
    Account: (_s, inner) => `viewer { account { ${inner} } }`,
    SubAccount: (_s, inner) => `viewer { account { ... on SubAccount { ${inner} } } }`,
    Balance: (_s, inner) => `viewer { account { balance { ${inner} } } }`,
    WebhookEndpoint: (s, inner) => `node(id: "${s.endpointId}") { ... on WebhookEndpoint { ${inner} } }`,
  },
};

type Form = "literal" | "variable" | "variable default" | "non-null variable default";
const FORMS: Form[] = ["literal", "variable", "variable default", "non-null variable default"];

/** A GraphQL literal of a JSON value (strings escape like JSON; input object keys unquoted). */
function literal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(literal).join(", ")}]`;
  if (value && typeof value === "object")
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${k}: ${literal(v)}`)
      .join(", ")} }`;
  return JSON.stringify(value);
}

/**
 * One argument value in one form: the variable definition it needs (if any),
 * the text to write in the argument's place, and the request variables.
 */
function inForm(form: Form, name: string, type: string, value: unknown, passedType = type): { def: string; use: string; variables: Record<string, unknown> } {
  switch (form) {
    case "literal":
      return { def: "", use: literal(value), variables: {} };
    case "variable":
      return { def: `$${name}: ${passedType}`, use: `$${name}`, variables: { [name]: value } };
    case "variable default":
      return { def: `$${name}: ${type} = ${literal(value)}`, use: `$${name}`, variables: {} };
    case "non-null variable default":
      return { def: `$${name}: ${type}! = ${literal(value)}`, use: `$${name}`, variables: {} };
  }
}

const operation = (defs: string[], body: string) => {
  const used = defs.filter(Boolean);
  return `query${used.length ? `(${used.join(", ")})` : ""} { ${body} }`;
};

/** A connection query: `args` is the argument text, `selection` what to read of the page. */
function connectionQuery(role: Role, c: { parent: string; field: string }, s: Subject, args: string, selection = "nodes { __typename }", defs: string[] = []) {
  const wrap = PATHS[role][c.parent]!;
  return operation(defs, wrap(s, `list: ${c.field}${args ? `(${args})` : ""} { ${selection} }`));
}

/** What the tests read of a connection query's page; each query selects the parts it reads (connectionQuery's `selection`). */
interface Page {
  totalCount: number;
  nodes: { id: string }[];
  edges: { cursor: string; node: { id: string } }[];
}

/** What the tests read of a run-time built Manager.subAccounts query, as the manager. */
interface SubAccountsData<Connection> {
  viewer: { account: { subAccounts: Connection } };
}

/** The page a connection query returned, wherever the wrapper put it (under the alias `list`). */
function findPage(data: unknown): unknown {
  if (!data || typeof data !== "object") return undefined;
  if ("list" in data) return data.list;
  for (const value of Object.values(data)) {
    const found = findPage(value);
    if (found !== undefined) return found;
  }
  return undefined;
}
function pageOf(data: unknown): Page {
  const page = findPage(data);
  if (!page || typeof page !== "object") throw new Error(`no page in ${JSON.stringify(data)}`);
  // The query selected (some of) Page's fields under `list`; the tests read only what they selected.
  return page as Page;
}

const brief = (res: GqlResponse) => `${res.status} ${JSON.stringify(res.body).slice(0, 400)}`;

/**
 * Statements of a request refused before execution: authentication only.
 * Measured per token on a request that fails validation.
 */
const baselines = new Map<string, number>();
async function baselineOf(token: string): Promise<number> {
  if (!baselines.has(token)) {
    const { result, statements } = await countStatements(() => gql(`{ viewer { nosuchfield } }`, { token }));
    expect(result.body.errors?.length).toBeGreaterThan(0);
    baselines.set(token, statements);
  }
  return baselines.get(token)!;
}

/** Asserts the refusal every cell of the matrix must give; returns the response. */
async function expectRefused(token: string, query: string, variables: Record<string, unknown>, code = "BAD_USER_INPUT"): Promise<GqlResponse> {
  const baseline = await baselineOf(token);
  const { result, statements } = await countStatements(() => gql(query, { token, variables }));
  const label = `${query} ${JSON.stringify(variables).slice(0, 200)} -> ${brief(result)}`;
  expect(result.status, label).toBe(200);
  const codes = errorCodes(result);
  expect(codes.length, label).toBeGreaterThan(0);
  expect(
    codes.every((c) => c === code),
    label,
  ).toBe(true);
  expect(JSON.stringify(result.body), label).not.toMatch(/Unexpected error|INTERNAL_SERVER_ERROR/);
  // Refused by the rule itself, not because a well-formed variable with a default was taken for a missing one.
  expect(JSON.stringify(result.body), label).not.toMatch(/was not provided/);
  expect(result.body.data ?? null, label).toBeNull();
  expect(statements, `statements beyond authentication: ${label}`).toBe(baseline);
  return result;
}

/**
 * The per-minute lastUsedAt write of a key (authenticate.ts) is not awaited
 * and would land in whichever request happens to be counted: a lastUsedAt in
 * the future keeps it from being written during this file.
 */
async function quietKeys(...accounts: TestAccount[]) {
  const ids = accounts.map((a) => parseGlobalId(a.keyId)!.id);
  await prisma.apiKey.updateMany({ where: { id: { in: ids } }, data: { lastUsedAt: new Date(Date.now() + 24 * 3600_000) } });
}

/** The same cursor with its row id replaced by one that never existed: same shape, no row. */
function missingLike(cursor: string): string {
  const text = Buffer.from(cursor, "base64").toString("utf8");
  const replaced = text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, randomUUID());
  expect(replaced, `cursor ${text} holds a uuid`).not.toBe(text);
  return Buffer.from(replaced, "utf8").toString("base64");
}

const OUT_OF_RANGE = [0, -5, 251, 300, 2147483647];

// ---------------------------------------------------------------- the world

let w: World;
let tree: TestAccount; // a manager with nine sub-accounts, for backwards paging

/** Subjects per role: the caller itself, and who holds a list it must not reach. */
let subjects: Record<Role, { own: Subject; foreign?: Subject; sibling?: Subject }>;

beforeAll(async () => {
  w = await createWorld();
  // A third sub-account, so the manager's list pages over more than the two the world has.
  await createSubAccount(w.manager);
  // Rows in every list of every party: keys, numbers (each one a usage record and a ledger entry), audit events.
  for (const [token, account] of [
    [w.manager.token, w.manager],
    [w.manager.token, w.sub],
    [w.manager.token, w.sibling],
    [w.otherManager.token, w.otherManager],
    [w.otherManager.token, w.otherSub],
  ] as const) {
    await fundCharges(account.id);
    for (let i = 0; i < 3; i++) await provisionNumber(token, account.id);
    await gqlData(
      graphql(
        `mutation($id: ID!) { a: createApiKey(input: { accountId: $id, name: "two" }) { __typename } b: createApiKey(input: { accountId: $id, name: "three" }) { __typename } }`,
      ),
      {
        token,
        variables: { id: account.id },
      },
    );
  }
  // Webhook endpoints with deliveries, and usage triggers, in every party's lists. Written directly,
  // disabled and with settled deliveries: no delivery is ever attempted, so no
  // request leaves for the (public, never contacted) address they name.
  const endpoints: Record<string, string> = {};
  for (const account of [w.manager, w.sub, w.sibling, w.otherManager, w.otherSub]) {
    const accountId = parseGlobalId(account.id)!.id;
    const events = await prisma.event.findMany({ where: { accountId }, select: { id: true }, take: 3 });
    for (let i = 0; i < 3; i++) {
      const endpoint = await prisma.webhookEndpoint.create({
        data: { accountId, url: "https://93.184.216.34/hooks", enabled: false, disabledAt: new Date(), secret: "whsec_unused" },
      });
      for (const event of events)
        await prisma.webhookDelivery.create({ data: { endpointId: endpoint.id, eventId: event.id, status: "SUCCEEDED", attempts: 1 } });
      endpoints[account.id] ??= encodeGlobalID("WebhookEndpoint", endpoint.id);
      // Usage triggers too (written directly: listing them is what is tested here).
      await prisma.usageTrigger.create({
        data: { accountId, condition: "SPEND_REACHES", thresholdMicros: BigInt(1_000_000 * (i + 1)), period: "MONTHLY", action: "NOTIFY" },
      });
    }
  }
  tree = await createManager();
  for (let i = 0; i < 9; i++) await createSubAccount(tree);
  await quietKeys(w.manager, w.otherManager, w.sub, w.sibling, w.otherSub, tree);
  subjects = {
    OPERATOR: { own: { token: OPERATOR_TOKEN, managerId: w.manager.id, subId: w.sub.id, endpointId: endpoints[w.manager.id] } },
    MANAGER: {
      own: { token: w.manager.token, managerId: w.manager.id, subId: w.sub.id, endpointId: endpoints[w.manager.id] },
      foreign: { token: w.otherManager.token, managerId: w.otherManager.id, subId: w.otherSub.id, endpointId: endpoints[w.otherManager.id] },
    },
    SUB_ACCOUNT: {
      own: { token: w.sub.token, subId: w.sub.id, endpointId: endpoints[w.sub.id] },
      sibling: { token: w.sibling.token, subId: w.sibling.id, endpointId: endpoints[w.sibling.id] },
      foreign: { token: w.otherSub.token, subId: w.otherSub.id, endpointId: endpoints[w.otherSub.id] },
    },
  };
});

const ROLES: Role[] = ["OPERATOR", "MANAGER", "SUB_ACCOUNT"];
const CELLS = ROLES.flatMap((role) => connectionFields(role).map((c) => ({ role, ...c, name: `${c.parent}.${c.field}` })));

// ---------------------------------------------------------------- tests

describe("the matrix covers every connection", () => {
  it("schema.graphql's connections include the ones the rules name, and every role's connection field has a path here", () => {
    const all = new Set(CELLS.map((c) => c.name));
    for (const name of [
      "Manager.subAccounts",
      "Manager.apiKeys",
      "Account.apiKeys",
      "SubAccount.apiKeys",
      "Account.phoneNumbers",
      "Account.usageRecords",
      "Account.auditEvents",
      "Balance.ledger",
      "Query.managers",
    ]) {
      expect(all, name).toContain(name);
    }
    const missing = CELLS.filter((c) => !PATHS[c.role][c.parent]).map((c) => `${c.role} ${c.name}`);
    expect(missing).toEqual([]);
  });

  it("the refusal baseline is authentication alone: a request failing validation costs one statement for a key, none for the operator", async () => {
    expect(await baselineOf(w.manager.token)).toBe(1);
    expect(await baselineOf(w.sub.token)).toBe(1);
    expect(await baselineOf(OPERATOR_TOKEN)).toBe(0);
  });
});

describe.each(CELLS)("$role $name", (cell) => {
  const pageCells = (["first", "last"] as const).flatMap((arg) => OUT_OF_RANGE.flatMap((value) => FORMS.map((form) => ({ arg, value, form }))));

  it.each(pageCells)("`$arg: $value` as a $form is BAD_USER_INPUT with no SQL", async ({ arg, value, form }) => {
    const s = subjects[cell.role].own;
    const f = inForm(form, "v", "Int", value);
    await expectRefused(s.token, connectionQuery(cell.role, cell, s, `${arg}: ${f.use}`, undefined, [f.def]), f.variables);
  });

  it.each(FORMS)("`first: 2` as a %s gives the same two items as the literal", async (form) => {
    const s = subjects[cell.role].own;
    const read = async (f: ReturnType<typeof inForm>) =>
      pageOf(
        await gqlData(connectionQuery(cell.role, cell, s, `first: ${f.use}`, "totalCount nodes { id }", [f.def]), { token: s.token, variables: f.variables }),
      );
    const expected = await read(inForm("literal", "v", "Int", 2));
    expect(expected.nodes.length).toBe(Math.min(2, expected.totalCount));
    expect(await read(inForm(form, "v", "Int", 2))).toEqual(expected);
  });

  it.each(FORMS)("`after:` the caller's own cursor as a %s pages like the literal", async (form) => {
    const s = subjects[cell.role].own;
    const first = pageOf(await gqlData(connectionQuery(cell.role, cell, s, `first: 2`, "edges { cursor node { id } }"), { token: s.token }));
    if (first.edges.length < 2) return; // an empty list has no cursor to page from (the operator's `managers` always has one)
    const cursor = first.edges[0]!.cursor;
    const f = inForm(form, "c", "String", cursor);
    const page = pageOf(
      await gqlData(connectionQuery(cell.role, cell, s, `first: 1, after: ${f.use}`, "nodes { id }", [f.def]), { token: s.token, variables: f.variables }),
    );
    expect(page.nodes).toEqual([first.edges[1]!.node]);
  });

  it("`last: 2` alone (first left to its default) gives the last two items of the list", async () => {
    const s = subjects[cell.role].own;
    const all = pageOf(await gqlData(connectionQuery(cell.role, cell, s, `first: 250`, "nodes { id }"), { token: s.token })).nodes;
    const res = await gql(connectionQuery(cell.role, cell, s, `last: 2`, "nodes { id }"), { token: s.token });
    expect(res.body.errors, brief(res)).toBeUndefined();
    expect(pageOf(res.body.data).nodes).toEqual(all.slice(-2));
  });

  describe("cursors that are not the caller's", () => {
    const cursorCells = (["after", "before"] as const).flatMap((arg) => FORMS.map((form) => ({ arg, form })));
    // `before` pages with `last`, `after` with `first`.
    const pageArg = (arg: "after" | "before") => (arg === "after" ? "first: 5" : "first: null, last: 5");

    it.each(cursorCells)("a garbage `$arg` as a $form is BAD_USER_INPUT with no SQL", async ({ arg, form }) => {
      const s = subjects[cell.role].own;
      for (const garbage of ["garbage", "R1BDOlM6bm90LWEtdXVpZA==", ""]) {
        const f = inForm(form, "c", "String", garbage);
        await expectRefused(s.token, connectionQuery(cell.role, cell, s, `${pageArg(arg)}, ${arg}: ${f.use}`, undefined, [f.def]), f.variables);
      }
    });

    const outsiders: ("sibling" | "foreign")[] = cell.role === "MANAGER" ? ["foreign"] : cell.role === "SUB_ACCOUNT" ? ["sibling", "foreign"] : [];
    const outsiderCells = outsiders.flatMap((who) => cursorCells.map((c) => ({ who, ...c })));

    it.each(outsiderCells)(
      "a real `$arg` cursor of the $who party's own list, as a $form, is refused exactly like a missing row's",
      async ({ who, arg, form }) => {
        const s = subjects[cell.role].own;
        const outsider = subjects[cell.role][who];
        if (!outsider) throw new Error(`${cell.role} has no ${who} party`);
        const theirs = pageOf(await gqlData(connectionQuery(cell.role, cell, outsider, `first: 1`, "edges { cursor }"), { token: outsider.token })).edges;
        expect(theirs.length, `the ${who} party has a row in ${cell.name}`).toBe(1);
        const real = theirs[0]!.cursor;
        const ask = (cursor: string) => {
          const f = inForm(form, "c", "String", cursor);
          return { query: connectionQuery(cell.role, cell, s, `${pageArg(arg)}, ${arg}: ${f.use}`, undefined, [f.def]), variables: f.variables };
        };
        const foreign = ask(real);
        const missing = ask(missingLike(real));
        const baseline = await baselineOf(s.token);
        const a = await countStatements(() => gql(foreign.query, { token: s.token, variables: foreign.variables }));
        const b = await countStatements(() => gql(missing.query, { token: s.token, variables: missing.variables }));
        expect(errorCodes(a.result), brief(a.result)).toEqual(["BAD_USER_INPUT"]);
        expect(a.result.status).toBe(200);
        expect(a.result.body.data ?? null, brief(a.result)).toBeNull();
        expect(a.result.body, "a foreign cursor answers like a missing row's").toEqual(b.result.body);
        // The reach of a well-formed cursor is checked with the row filters (README): one statement at most, the same for both.
        expect(a.statements, "the same statements as a missing row's cursor").toBe(b.statements);
        expect(a.statements - baseline).toBeLessThanOrEqual(1);
      },
    );

    it("a cursor of the caller's own row of another list type is refused like a missing row's", async () => {
      const s = subjects[cell.role].own;
      const other = CELLS.find((c) => c.role === cell.role && c.nodeType !== cell.nodeType && c.parent === "Account");
      expect(other).toBeDefined();
      const theirs = pageOf(await gqlData(connectionQuery(cell.role, other!, s, `first: 1`, "edges { cursor }"), { token: s.token })).edges;
      if (!theirs.length) return;
      const q = (c: string) => connectionQuery(cell.role, cell, s, `first: 5, after: ${literal(c)}`);
      const cursor = theirs[0]!.cursor;
      const a = await gql(q(cursor), { token: s.token });
      const b = await gql(q(missingLike(cursor)), { token: s.token });
      expect(errorCodes(a), brief(a)).toEqual(["BAD_USER_INPUT"]);
      expect(a.body).toEqual(b.body);
    });
  });
});

describe("backwards paging as Relay clients send it (Manager.subAccounts)", () => {
  const LIST = (args: string, defs: string[] = []) =>
    operation(defs, `viewer { account { ... on Manager { subAccounts(${args}) { edges { cursor node { id } } } } } }`);
  type Edges = SubAccountsData<{ edges: { cursor: string; node: { id: string } }[] }>;
  let all: { cursor: string; node: { id: string } }[];
  const ids = (edges: { node: { id: string } }[]) => edges.map((e) => e.node.id);
  beforeAll(async () => {
    all = (await gqlData<Edges>(LIST("first: 250"), { token: tree.token })).viewer.account.subAccounts.edges;
    expect(all).toHaveLength(9);
  });

  it.each(FORMS)("`last: 7` alone, as a %s, gives the last seven of the list", async (form) => {
    const f = inForm(form, "l", "Int", 7);
    const res = await gql<Edges>(LIST(`last: ${f.use}`, [f.def]), { token: tree.token, variables: f.variables });
    expect(res.body.errors, brief(res)).toBeUndefined();
    expect(ids(res.body.data!.viewer.account.subAccounts.edges)).toEqual(ids(all.slice(-7)));
  });

  it("`last: 7` with a `first` variable that is declared but not passed gives the last seven", async () => {
    const res = await gql<Edges>(LIST(`first: $f, last: $l`, ["$f: Int", "$l: Int = 7"]), { token: tree.token });
    expect(res.body.errors, brief(res)).toBeUndefined();
    expect(ids(res.body.data!.viewer.account.subAccounts.edges)).toEqual(ids(all.slice(-7)));
  });

  it.each(FORMS)("`last: 3, before:` a cursor, as a %s, gives the three items before it", async (form) => {
    const f = inForm(form, "b", "String", all[6]!.cursor);
    const res = await gql<Edges>(LIST(`last: 3, before: ${f.use}`, [f.def]), { token: tree.token, variables: f.variables });
    expect(res.body.errors, brief(res)).toBeUndefined();
    expect(ids(res.body.data!.viewer.account.subAccounts.edges)).toEqual(ids(all.slice(3, 6)));
  });

  it.each(FORMS)("an explicit `first: 5, last: 3` (first as a %s) stays BAD_USER_INPUT with no SQL", async (form) => {
    const f = inForm(form, "f", "Int", 5);
    await expectRefused(tree.token, LIST(`first: ${f.use}, last: 3`, [f.def]), f.variables);
  });
});

describe("nodes(ids:) takes at most 100 ids, however they arrive", () => {
  const ids = (n: number) => Array.from({ length: n }, () => w.sub.id);
  type NodesForm = Form | "variable inside the list";
  const NODES_FORMS: NodesForm[] = [...FORMS, "variable inside the list"];
  const nodesQuery = (form: NodesForm, n: number) => {
    if (form === "variable inside the list") {
      return { query: operation([`$i: ID = ${literal(w.sub.id)}`], `nodes(ids: [${Array(n).fill("$i").join(", ")}]) { id }`), variables: {} };
    }
    const f = inForm(form, "ids", "[ID!]", ids(n), "[ID!]!");
    return { query: operation([f.def], `nodes(ids: ${f.use}) { id }`), variables: f.variables };
  };

  it.each(NODES_FORMS)("101 ids as a %s are BAD_USER_INPUT with no SQL", async (form) => {
    const { query, variables } = nodesQuery(form, 101);
    await expectRefused(w.manager.token, query, variables);
  });

  it.each(NODES_FORMS)("100 ids as a %s answer 100 nodes, like the literal", async (form) => {
    const { query, variables } = nodesQuery(form, 100);
    const res = await gql<{ nodes: ({ id: string } | null)[] }>(query, { token: w.manager.token, variables });
    expect(res.body.errors, brief(res)).toBeUndefined();
    expect(res.body.data?.nodes).toEqual(ids(100).map((id) => ({ id })));
  });
});

describe("query cost, with the page sizes in variables' defaults", () => {
  const TREE = (defs: string[], a: string, b: string) =>
    operation(defs, `viewer { account { ... on Manager { subAccounts(first: ${a}) { nodes { apiKeys(first: ${b}) { nodes { id } } } } } } }`);

  it.each(FORMS)("subAccounts(first: 250) { apiKeys(first: 250) } with both sizes as a %s is QUERY_TOO_COMPLEX with no SQL", async (form) => {
    const a = inForm(form, "a", "Int", 250);
    const b = inForm(form, "b", "Int", 250);
    await expectRefused(w.manager.token, TREE([a.def, b.def], a.use, b.use), { ...a.variables, ...b.variables }, "QUERY_TOO_COMPLEX");
  });

  it("the outer size given, the inner one from a default (`$b: Int = 250`): QUERY_TOO_COMPLEX with no SQL", async () => {
    await expectRefused(w.manager.token, TREE(["$b: Int = 250"], "250", "$b"), {}, "QUERY_TOO_COMPLEX");
  });

  it.each(FORMS)("a tree that fits (250 x 20), sizes as a %s, runs", async (form) => {
    const a = inForm(form, "a", "Int", 250);
    const b = inForm(form, "b", "Int", 20);
    const res = await gql(TREE([a.def, b.def], a.use, b.use), { token: w.manager.token, variables: { ...a.variables, ...b.variables } });
    expect(res.body.errors, brief(res)).toBeUndefined();
  });
});

describe("`contains` filters: at least 3 characters, no NUL, however they arrive", () => {
  type FilterForm = Form | "filter object as a variable" | "filter object as a variable default";
  const FILTER_FORMS: FilterForm[] = [...FORMS, "filter object as a variable", "filter object as a variable default"];
  const LISTS = [
    {
      name: "Manager.subAccounts(filter: { email })",
      token: () => w.manager.token,
      filterType: "SubAccountFilter",
      key: "email",
      wrap: (x: string) => `viewer { account { ... on Manager { subAccounts${x} { totalCount nodes { id } } } } }`,
    },
    {
      name: "Manager.subAccounts(filter: { organizationName })",
      token: () => w.manager.token,
      filterType: "SubAccountFilter",
      key: "organizationName",
      wrap: (x: string) => `viewer { account { ... on Manager { subAccounts${x} { totalCount nodes { id } } } } }`,
    },
    {
      name: "Query.managers(filter: { email })",
      token: () => OPERATOR_TOKEN,
      filterType: "ManagerFilter",
      key: "email",
      wrap: (x: string) => `managers${x} { totalCount nodes { id } }`,
    },
    {
      name: "Query.managers(filter: { organizationName })",
      token: () => OPERATOR_TOKEN,
      filterType: "ManagerFilter",
      key: "organizationName",
      wrap: (x: string) => `managers${x} { totalCount nodes { id } }`,
    },
  ];
  const filterQuery = (list: (typeof LISTS)[number], form: FilterForm, text: string) => {
    if (form === "filter object as a variable") {
      return { query: operation([`$f: ${list.filterType}`], list.wrap(`(filter: $f)`)), variables: { f: { [list.key]: { contains: text } } } };
    }
    if (form === "filter object as a variable default") {
      return { query: operation([`$f: ${list.filterType} = ${literal({ [list.key]: { contains: text } })}`], list.wrap(`(filter: $f)`)), variables: {} };
    }
    const f = inForm(form, "c", "String", text);
    return { query: operation([f.def], list.wrap(`(filter: { ${list.key}: { contains: ${f.use} } })`)), variables: f.variables };
  };
  const cells = LISTS.flatMap((list) =>
    ["ab", "a", "", "ab\u0000cd"].flatMap((text) =>
      FILTER_FORMS.map((form) => ({ list, text, form, label: `${list.name} contains ${JSON.stringify(text)} as a ${form}` })),
    ),
  );

  it.each(cells)("$label is BAD_USER_INPUT with no SQL", async ({ list, text, form }) => {
    const { query, variables } = filterQuery(list, form, text);
    await expectRefused(list.token(), query, variables);
  });

  it.each(LISTS.flatMap((list) => FILTER_FORMS.map((form) => ({ list, form }))))(
    "$list.name with a valid `contains` as a $form finds what the literal finds",
    async ({ list, form }) => {
      const text =
        list.key === "email"
          ? (list.filterType === "ManagerFilter" ? w.manager.email : w.sub.email).slice(0, 14)
          : list.filterType === "ManagerFilter"
            ? "Acme"
            : "Customer";
      const read = async (f: FilterForm) => {
        const { query, variables } = filterQuery(list, f, text);
        return gqlData(query, { token: list.token(), variables });
      };
      const expected = await read("literal");
      expect(JSON.stringify(expected)).toMatch(/"id"/);
      expect(await read(form)).toEqual(expected);
    },
  );
});

describe("a sub-account's cursors of its sibling (explicit)", () => {
  it("Account.apiKeys(after: the sibling's key cursor) answers exactly like a garbage cursor of the same shape, in every form", async () => {
    const siblingAccount = (await gqlData(graphql(`{ viewer { account { apiKeys(first: 1) { edges { cursor } } } } }`), { token: w.sibling.token })).viewer
      .account;
    const siblingCursor = siblingAccount?.apiKeys.edges[0]?.cursor;
    if (!siblingCursor) throw new Error("the sibling has no API key");
    for (const form of FORMS) {
      const ask = (cursor: string) => {
        const f = inForm(form, "c", "String", cursor);
        return gql(operation([f.def], `viewer { account { apiKeys(first: 5, after: ${f.use}) { nodes { id } } } }`), {
          token: w.sub.token,
          variables: f.variables,
        });
      };
      const sibling = await ask(siblingCursor);
      const missing = await ask(missingLike(siblingCursor));
      expect(errorCodes(sibling), `${form}: ${brief(sibling)}`).toEqual(["BAD_USER_INPUT"]);
      expect(sibling.body, form).toEqual(missing.body);
    }
  });
});

describe("other places a variable's default can hide", () => {
  /** A request with an operation name (gql sends none). */
  const post = async <R = unknown>(body: object, token: string): Promise<GqlResponse<R>> => {
    const { app } = await import("../helpers/app.js");
    const response = await app.fetch("http://gateway.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as GqlResponse<R>["body"], headers: response.headers };
  };

  it.each([
    ["inside a named fragment", `query($v: Int = 300) { viewer { account { ...F } } } fragment F on Manager { subAccounts(first: $v) { nodes { id } } }`],
    [
      "inside a fragment nested in a fragment",
      `query($v: Int = 300) { viewer { ...A } } fragment A on Viewer { account { ...F } } fragment F on Manager { subAccounts(first: $v) { nodes { id } } }`,
    ],
    [
      "on an aliased field beside a valid one",
      `query($v: Int = 300) { viewer { account { ... on Manager { ok: subAccounts(first: 2) { nodes { id } } bad: subAccounts(first: $v) { nodes { id } } } } } }`,
    ],
    [
      "on a nested list of a list's items",
      `query($v: Int = 300) { viewer { account { ... on Manager { subAccounts(first: 2) { nodes { apiKeys(first: $v) { nodes { id } } } } } } } }`,
    ],
    [
      "as a `last` under a `before` taken from another defaulted variable",
      `query($l: Int = 300, $b: String = "garbage") { viewer { account { ... on Manager { subAccounts(last: $l, before: $b) { nodes { id } } } } } }`,
    ],
  ])("`first: 300` %s is BAD_USER_INPUT with no SQL", async (_label, query) => {
    await expectRefused(w.manager.token, query, {});
  });

  it("the operation picked by operationName is judged with its own defaults: `first: 300` there is BAD_USER_INPUT with no SQL", async () => {
    const query = `query Fine($v: Int = 2) { viewer { account { ... on Manager { subAccounts(first: $v) { nodes { id } } } } } }
      query Hostile($v: Int = 300) { viewer { account { ... on Manager { subAccounts(first: $v) { nodes { id } } } } } }`;
    const baseline = await baselineOf(w.manager.token);
    const { result, statements } = await countStatements(() => post({ query, operationName: "Hostile" }, w.manager.token));
    expect(errorCodes(result), brief(result)).toEqual(["BAD_USER_INPUT"]);
    expect(result.body.data ?? null).toBeNull();
    expect(statements).toBe(baseline);
    const fine = await post<SubAccountsData<{ nodes: { id: string }[] }>>({ query, operationName: "Fine" }, w.manager.token);
    expect(fine.body.errors, brief(fine)).toBeUndefined();
    expect(fine.body.data?.viewer.account.subAccounts.nodes).toHaveLength(2);
  });

  it("a nullable variable with a default, passed an explicit null, leaves `first` to the schema's 20 (not a refusal, not 300)", async () => {
    const res = await gql(graphql(`query($v: Int = 300) { viewer { account { ... on Manager { subAccounts(first: $v) { nodes { id } } } } } }`), {
      token: w.manager.token,
      variables: { v: null },
    });
    // An explicit null is a value: `first: null` pages with the schema's rules, never with the default 300.
    expect(JSON.stringify(res.body)).not.toMatch(/Unexpected error|INTERNAL_SERVER_ERROR/);
    if (!res.body.errors) {
      const account = res.body.data?.viewer.account;
      expect(account && "subAccounts" in account ? account.subAccounts.nodes.length : undefined).toBeLessThanOrEqual(20);
    }
  });
});
