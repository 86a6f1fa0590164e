// GraphiQL's example tabs are what a newcomer runs first: each must be a
// valid document of the schema, and the least-privilege and act-as examples
// must do what their comments say when run as written (with the ids filled
// in), through the real HTTP layer.
import { parse, validate } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { graphiqlOptions } from "../../src/http/graphiql.js";
import { schema } from "../../src/schema/index.js";
import { gql } from "../helpers/app.js";
import { createWorld, type World } from "../helpers/factories.js";

const tabs = graphiqlOptions.defaultTabs ?? [];
const tab = (operation: string) => {
  const found = tabs.find((t) => t.query?.includes(operation));
  if (!found?.query) throw new Error(`no ${operation} tab`);
  return { query: found.query, variables: found.variables ? (JSON.parse(found.variables) as Record<string, unknown>) : {} };
};

/** Runs a tab's document as `token`, through the real HTTP layer. */
async function run(token: string, query: string, variables: object, headers: Record<string, string> = {}) {
  // biome-ignore lint/suspicious/noExplicitAny: the tabs' documents are strings; their shape is stated by each assertion
  return (await gql<any, object>(query, { token, variables, headers })).body;
}

let w: World;
beforeAll(async () => {
  w = await createWorld();
});

describe("GraphiQL's example tabs", () => {
  it("are each a valid document of the schema", () => {
    expect(tabs.length).toBeGreaterThanOrEqual(7);
    for (const t of tabs)
      expect(
        validate(schema, parse(t.query!)).map((e) => e.message),
        t.query!.split("\n")[0],
      ).toEqual([]);
  });

  it("the restricted-key example creates a key that records usage and reads quantities, and whose schema has no prices", async () => {
    const { query, variables } = tab("CreateRestrictedKey");
    const input = { ...(variables.input as object), accountId: w.sub.id };
    const created = await run(w.manager.token, query, { input });
    expect(created.data.createApiKey).toMatchObject({ __typename: "CreateApiKeySuccess", apiKey: { permissions: ["ACCOUNTS_READ", "USAGE_WRITE"] } });
    const secret = created.data.createApiKey.secret as string;
    const types = await run(secret, `{ __schema { mutationType { fields { name } } } }`, {});
    expect(types.data.__schema.mutationType.fields).toEqual([{ name: "recordUsage" }]);
  });

  it("the act-as example, with the Act-As-Account header added, answers as the sub-account", async () => {
    const { query } = tab("query ActAs");
    const answer = await run(w.manager.token, query, {}, { "act-as-account": w.sub.id });
    expect(answer.errors).toBeUndefined();
    expect(answer.data.viewer).toMatchObject({ role: "SUB_ACCOUNT", actingAs: true, account: { id: w.sub.id, managerEmail: w.manager.email } });
  });
});
