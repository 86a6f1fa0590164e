// The lists read only the columns a query asks for (src/read/columns.ts).
// A field that reads a column its `reads` leaves out would answer undefined
// instead of failing, so every field of every listed type is checked here:
// through the narrowed list (that field alone) it must answer exactly what
// `nodes(ids:)` answers from whole Prisma rows.
import { type GraphQLField, type GraphQLObjectType, getNamedType, isLeafType, isObjectType } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { getDatamodel } from "../../src/generated/pothos-types.js";
import { readsOf } from "../../src/read/columns.js";
import { schema } from "../../src/schema/index.js";
import { gqlData } from "../helpers/app.js";
import { createApiKey, createManager, createSubAccount, provisionNumber, type TestAccount } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

// The documents below are built at run time from the schema, so their results
// are typed by what the tests read of them.
/** An item of a list, with whatever fields the selection asked (compared whole). */
type Item = { id: string } & Record<string, unknown>;
/** A list page as the cursor tests read it. */
interface Page {
  nodes: Item[];
  edges: { cursor: string }[];
  pageInfo: { startCursor?: string | null; endCursor: string | null; hasNextPage: boolean };
}
/** The manager's sub-accounts, each as `S`. */
interface SubAccountsOf<S> {
  viewer: { account: { subAccounts: { nodes: S[] } } };
}

const period = { from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() };

/** A selection of every leaf below a field (two levels of objects; lists by their first items). */
function selectionOf(field: GraphQLField<unknown, unknown>, depth = 0): string {
  const args = field.args.some((a) => a.name === "from") ? `(from: "${period.from}", to: "${period.to}")` : "";
  const type = getNamedType(field.type);
  if (isLeafType(type)) return field.name + args;
  if (depth >= 2 || !isObjectType(type)) return `${field.name}${args} { __typename }`;
  const inner = Object.values(type.getFields())
    .filter((f) => !f.args.some((a) => a.type.toString().endsWith("!") && a.name !== "from" && a.name !== "to"))
    .map((f) => selectionOf(f, depth + 1));
  return `${field.name}${args} { ${inner.join(" ")} }`;
}

const fieldsOf = (typeName: string) => Object.values((schema.getType(typeName) as GraphQLObjectType).getFields());

let manager: TestAccount;
const ids = { subs: [] as string[], numbers: [] as string[], keys: [] as string[] };

beforeAll(async () => {
  manager = await createManager();
  const plain = await createSubAccount(manager, { organizationName: "Plain Co" });
  const limited = await createSubAccount(manager, { creditLimit: "12.5", rollupBilling: true });
  const closing = await createSubAccount(manager);
  for (const sub of [plain, limited]) {
    await provisionNumber(manager.token, sub.id);
    await createApiKey(manager.token, sub.id, "second key");
  }
  const released = await provisionNumber(manager.token, plain.id);
  const releasedResult = await gqlData(graphql(`mutation($id: ID!) { releasePhoneNumber(input: { id: $id }) { __typename } }`), {
    token: manager.token,
    variables: { id: released.id },
  });
  expect(releasedResult.releasePhoneNumber.__typename).toBe("ReleasePhoneNumberSuccess");
  const revoked = await gqlData(graphql(`mutation($id: ID!) { revokeApiKey(input: { id: $id }) { __typename } }`), {
    token: manager.token,
    variables: { id: (await createApiKey(manager.token, limited.id, "revoked key")).id },
  });
  expect(revoked.revokeApiKey.__typename).toBe("RevokeApiKeySuccess");
  const closed = await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), {
    token: manager.token,
    variables: { id: closing.id },
  });
  expect(closed.closeSubAccount.__typename).toMatch(/Success$/);
  const listed = await gqlData(
    graphql(`{ viewer { account { ... on Manager { subAccounts(first: 10, includeClosed: true) { nodes { id
       phoneNumbers(first: 10, includeReleased: true) { nodes { id } } apiKeys(first: 10, includeRevoked: true) { nodes { id } } } } } } } }`),
    { token: manager.token },
  );
  const account = listed.viewer.account;
  if (!account || !("subAccounts" in account)) throw new Error(`expected the manager's account, got ${JSON.stringify(account)}`);
  for (const sub of account.subAccounts.nodes) {
    ids.subs.push(sub.id);
    ids.numbers.push(...sub.phoneNumbers.nodes.map((n) => n.id));
    ids.keys.push(...sub.apiKeys.nodes.map((k) => k.id));
  }
  expect(ids.subs).toHaveLength(3);
  expect(ids.numbers.length).toBeGreaterThanOrEqual(3);
});

const sortById = (items: { id: string }[]) => [...items].sort((a, b) => a.id.localeCompare(b.id));

async function compare(typeName: string, field: GraphQLField<unknown, unknown>, listed: (selection: string) => Promise<{ id: string }[]>, wanted: string[]) {
  const selection = selectionOf(field);
  const viaList = await listed(`id ${selection}`);
  const viaNodes = await gqlData<{ nodes: Item[] }>(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on ${typeName} { id ${selection} } } }`, {
    token: manager.token,
    variables: { ids: wanted },
  });
  expect(sortById(viaList), `${typeName}.${field.name}`).toEqual(sortById(viaNodes.nodes));
}

describe("lists read only the columns a query asks for", () => {
  it("every field of a sub-account answers the same through the list as from a whole row", async () => {
    for (const field of fieldsOf("SubAccount")) {
      await compare(
        "SubAccount",
        field,
        async (selection) =>
          (
            await gqlData<SubAccountsOf<Item>>(
              `{ viewer { account { ... on Manager { subAccounts(first: 10, includeClosed: true) { nodes { ${selection} } } } } } }`,
              {
                token: manager.token,
              },
            )
          ).viewer.account.subAccounts.nodes,
        ids.subs,
      );
    }
  });

  it("every field of a phone number and of an API key answers the same through the lists as from a whole row", async () => {
    const nested = (list: string, args: string) => async (selection: string) =>
      (
        await gqlData<SubAccountsOf<Record<string, { nodes: Item[] }>>>(
          `{ viewer { account { ... on Manager { subAccounts(first: 10, includeClosed: true) { nodes { ${list}(first: 10, ${args}) { nodes { ${selection} } } } } } } } }`,
          {
            token: manager.token,
          },
        )
      ).viewer.account.subAccounts.nodes.flatMap((s) => s[list]?.nodes ?? []);
    for (const field of fieldsOf("PhoneNumber")) await compare("PhoneNumber", field, nested("phoneNumbers", "includeReleased: true"), ids.numbers);
    for (const field of fieldsOf("ApiKey")) await compare("ApiKey", field, nested("apiKeys", "includeRevoked: true"), ids.keys);
  });

  it("a number's or a key's fields asked without its id answer as they do beside it, and cursors come without asking for ids", async () => {
    // A number's or a key's id is read only when the query needs it (src/read/columns.ts ALWAYS).
    const lists = [
      ["phoneNumbers", "includeReleased: true", "PhoneNumber"],
      ["apiKeys", "includeRevoked: true", "ApiKey"],
    ] as const;
    for (const [list, args, typeName] of lists) {
      const pages = async (selection: string, page = "first: 10") =>
        (
          await gqlData<SubAccountsOf<Record<string, Page>>>(
            `{ viewer { account { ... on Manager { subAccounts(first: 10, includeClosed: true) { nodes { ${list}(${page}, ${args}) { ${selection} } } } } } } }`,
            {
              token: manager.token,
            },
          )
        ).viewer.account.subAccounts.nodes.map((s) => {
          const page = s[list];
          if (!page) throw new Error(`no ${list} in ${JSON.stringify(s)}`);
          return page;
        });
      for (const field of fieldsOf(typeName).filter((f) => f.name !== "id")) {
        const selection = selectionOf(field);
        const alone = (await pages(`nodes { ${selection} }`)).map((p) => p.nodes);
        const besideId = (await pages(`nodes { id ${selection} }`)).map((p) => p.nodes.map(({ id: _id, ...rest }) => rest));
        expect(alone, `${typeName}.${field.name}`).toEqual(besideId);
      }
      const cursorsAlone = await pages(`edges { cursor } pageInfo { startCursor endCursor }`);
      const cursorsBesideIds = await pages(`edges { cursor node { id } } pageInfo { startCursor endCursor }`);
      expect(cursorsAlone).toEqual(cursorsBesideIds.map((p) => ({ ...p, edges: p.edges.map((e) => ({ cursor: e.cursor })) })));
      expect(cursorsAlone.some((p) => p.edges.length > 1)).toBe(true);
      for (const page of cursorsAlone) {
        for (const edge of page.edges) expect(edge.cursor).toEqual(expect.any(String));
      }
      // pageInfo alone pages on: the end cursor of a one-item page continues at the second item.
      const firstItems = await pages(`pageInfo { endCursor hasNextPage }`, "first: 1");
      const secondIds = (await pages(`nodes { id }`, "first: 2")).map((p) => p.nodes[1]?.id ?? null);
      let continued = 0;
      for (const [i, first] of firstItems.entries()) {
        if (!first.pageInfo.hasNextPage) continue;
        const next = await gqlData<{ node: Record<string, { nodes: { id: string }[] }> }>(
          `query($id: ID!, $after: String!) { node(id: $id) { ... on SubAccount { ${list}(first: 1, after: $after, ${args}) { nodes { id } } } } }`,
          {
            token: manager.token,
            variables: { id: ids.subs[i], after: first.pageInfo.endCursor },
          },
        );
        expect(next.node[list]?.nodes[0]?.id).toBe(secondIds[i]);
        continued++;
      }
      expect(continued).toBeGreaterThan(0);
    }
  });

  it("every field of the lists' item types declares what it reads, and only columns its model has", () => {
    const { models } = getDatamodel().datamodel;
    const itemTypes = { SubAccount: "Account", Manager: "Account", PhoneNumber: "PhoneNumber", ApiKey: "ApiKey" } as const;
    for (const [typeName, model] of Object.entries(itemTypes)) {
      const columns = new Set(models[model]!.fields.filter((f) => f.kind !== "object").map((f) => f.name));
      for (const field of fieldsOf(typeName)) {
        const { reads } = readsOf(field);
        // A Node's id is the relay plugin's field: it reads the row's id (read/columns.ts).
        if (field.name === "id") continue;
        expect(reads, `${typeName}.${field.name} declares no \`reads\` (schema/readsPlugin.ts): its lists would read whole rows`).toBeDefined();
        for (const column of reads!) expect(columns.has(column), `${typeName}.${field.name} reads ${column}`).toBe(true);
      }
    }
  });
});
