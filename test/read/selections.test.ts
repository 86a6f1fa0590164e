// The one selection walker (src/read/selections.ts) against graphql-js'
// own collectFields, the executor's rule: on every object type a document
// reaches, the walker visits exactly the field nodes the executor would
// resolve, whatever mix of @skip/@include (literals and variables), inline
// fragments, named fragments and type conditions that cannot apply. Then,
// over HTTP, what that agreement buys: a skipped totalCount costs no count,
// and an argument under @include(if: false) is not judged (it never runs).
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  isAbstractType,
  isObjectType,
  Kind,
  NoUnusedFragmentsRule,
  parse,
  type SelectionSetNode,
  specifiedRules,
  validate,
} from "graphql";
import { collectFields } from "graphql/execution/collectFields.js";
import { beforeAll, describe, expect, it } from "vitest";
import { compositeFieldType, forEachSelectedField, type SelectionScope } from "../../src/read/selections.js";
import { schema } from "../../src/schema/index.js";
import { countStatements, gql, gqlData } from "../helpers/app.js";
import { createManager, createSubAccount, provisionNumber, type TestAccount } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

const FRAGMENTS = `
  fragment Keys on Account { apiKeys(first: 2) { totalCount @include(if: $count) nodes { id } } }
  fragment ManagerOnly on Manager { subAccountLimit organizationName @skip(if: $skip) }
  fragment SubOnly on SubAccount { status phoneNumbers { nodes { number } ... @skip(if: true) { totalCount } } }
  fragment Nested on Account { ...Keys ... on SubAccount { ...SubOnly } }
`;

const DOCUMENTS = [
  `query($skip: Boolean!, $count: Boolean!) { viewer { role account { id ...ManagerOnly ...SubOnly ...Nested ... on Manager { email @include(if: $count) } } } }`,
  `query($skip: Boolean!, $count: Boolean!) {
     viewer { account { ... on Manager {
       subAccounts(first: 5) @skip(if: $skip) { totalCount @skip(if: $count) nodes { id ...Keys ... on Account { ...SubOnly } } }
       again: subAccounts(first: 5) { edges @include(if: $count) { cursor node { ...Nested } } pageInfo { hasNextPage } }
     } } }
   }`,
  `query($skip: Boolean!, $count: Boolean!) { viewer { account { ... @include(if: $skip) { id } ... on SubAccount @skip(if: $count) { ...SubOnly } ...Keys @skip(if: $skip) } } }`,
];

const VARIABLES = [
  { skip: false, count: false },
  { skip: true, count: false },
  { skip: false, count: true },
  { skip: true, count: true },
];

/** Every (object type, selection sets) pair the executor reaches in `document`, taking every possible type of an abstract field. */
function compareAt(scope: SelectionScope, type: GraphQLObjectType, sets: readonly SelectionSetNode[], path: string, checked: string[]): void {
  const executor = new Set<FieldNode>();
  const byKey = new Map<string, FieldNode[]>();
  for (const set of sets) {
    for (const [key, nodes] of collectFields(scope.schema, scope.fragments, scope.variableValues, type, set)) {
      for (const node of nodes) executor.add(node);
      byKey.set(key, [...(byKey.get(key) ?? []), ...nodes]);
    }
  }
  const walker = new Set<FieldNode>();
  for (const set of sets) forEachSelectedField(scope, set, type, (field) => walker.add(field));
  expect([...walker].map((f) => f.name.value).sort(), `${path} on ${type.name}`).toEqual([...executor].map((f) => f.name.value).sort());
  expect(walker, `${path} on ${type.name}`).toEqual(executor);
  checked.push(`${path}:${type.name}`);

  for (const [key, nodes] of byKey) {
    const child = compositeFieldType(type, nodes[0]!.name.value);
    const childSets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
    if (!child || childSets.length === 0) continue;
    const runtimeTypes = isAbstractType(child) ? schema.getPossibleTypes(child) : isObjectType(child) ? [child] : [];
    for (const runtime of runtimeTypes) compareAt(scope, runtime, childSets, `${path}.${key}`, checked);
  }
}

describe("the selection walker", () => {
  it("visits exactly the fields graphql-js' collectFields gives the executor, on every object type reached", () => {
    const checked: string[] = [];
    for (const text of DOCUMENTS) {
      const document = parse(text + FRAGMENTS);
      // Valid documents (each shares the fragment list, so not every fragment is used by each).
      const rules = specifiedRules.filter((rule) => rule !== NoUnusedFragmentsRule);
      expect(validate(schema, document, rules).map((e) => e.message)).toEqual([]);
      const fragments: Record<string, FragmentDefinitionNode> = {};
      for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
      const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
      for (const variableValues of VARIABLES)
        compareAt({ schema, fragments, variableValues }, schema.getQueryType()!, [operation.selectionSet], "query", checked);
    }
    // Both documents reach sub-accounts, managers and their lists, under every variable combination.
    expect(checked.length).toBeGreaterThan(100);
    expect(checked.some((c) => c.endsWith("subAccounts.nodes:SubAccount"))).toBe(true);
    expect(checked.some((c) => c.endsWith(".apiKeys.nodes:ApiKey"))).toBe(true);
  });
});

describe("what the walker's agreement with the executor decides over HTTP", () => {
  let manager: TestAccount;
  beforeAll(async () => {
    manager = await createManager();
    for (let i = 0; i < 3; i++) {
      const sub = await createSubAccount(manager);
      await provisionNumber(manager.token, sub.id);
    }
  });

  const TREE = graphql(`query($skipCount: Boolean!, $withNumbers: Boolean!) { viewer { account { ... on Manager { subAccounts(first: 10) {
    totalCount @skip(if: $skipCount)
    nodes { id phoneNumbers @include(if: $withNumbers) { totalCount nodes { number } } }
  } } } } }`);

  it("a tree read is one statement whether @skip and @include turn its parts on or off", async () => {
    for (const variables of [
      { skipCount: false, withNumbers: true },
      { skipCount: true, withNumbers: true },
      { skipCount: true, withNumbers: false },
    ]) {
      const { result, statements } = await countStatements(() => gqlData(TREE, { token: manager.token, variables }));
      const account = result.viewer.account;
      if (!account || !("subAccounts" in account)) throw new Error(`expected the manager's account, got ${JSON.stringify(account)}`);
      const page = account.subAccounts;
      expect(page.totalCount, JSON.stringify(variables)).toBe(variables.skipCount ? undefined : 3);
      expect(page.nodes).toHaveLength(3);
      for (const node of page.nodes) expect(node.phoneNumbers?.nodes.length, JSON.stringify(variables)).toBe(variables.withNumbers ? 1 : undefined);
      // Authentication's key read plus the page with its nested lists: the same whatever is skipped.
      expect(statements, JSON.stringify(variables)).toBeLessThanOrEqual(2);
    }
  });

  it("an argument under @include(if: false) is not judged, and the same argument included is refused", async () => {
    const query = graphql(`query($on: Boolean!) { viewer { account { ... on Manager { subAccounts(first: 300) @include(if: $on) { totalCount } id } } } }`);
    const off = await gql(query, { token: manager.token, variables: { on: false } });
    expect(off.body.errors).toBeUndefined();
    expect(off.body.data?.viewer.account).toEqual({ id: manager.id });
    const on = await gql(query, { token: manager.token, variables: { on: true } });
    expect(on.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(on.body.data).toBeUndefined();
  });
});
