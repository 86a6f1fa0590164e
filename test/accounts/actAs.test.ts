// Acting as a sub-account (DOMAIN.md): a manager key (or the operator token)
// with `Act-As-Account: <SubAccount id>` gets exactly that sub-account's
// schema and data, its changes are recorded as the caller's with viaActAs,
// an id outside its tree is the 401 of a bad key, and rate limits count
// against the calling key.
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery, print, printSchema } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/yoga.js";
import { app, OPERATOR_TOKEN } from "../helpers/app.js";
import { createWorld, setAccountPricing, topUp, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

/** One request, optionally acting as `actAs`, against `target` (the shared app by default). */
async function request(token: string, query: string, variables: Record<string, unknown> = {}, actAs?: string, target = app) {
  const headers: Record<string, string> = { "content-type": "application/json", authorization: `Bearer ${token}` };
  if (actAs !== undefined) headers["act-as-account"] = actAs;
  const response = await target.fetch("http://gateway.test/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return {
    status: response.status,
    body: (await response.json()) as { data?: Record<string, unknown>; errors?: { message: string; extensions?: { code?: string } }[] },
  };
}

const TREE = print(
  graphql(`query { viewer { role actingAs account { id email status ... on SubAccount { managerEmail balance { available { amount } totalSpent { amount } }
    apiKeys { totalCount nodes { name prefix } } phoneNumbers { totalCount } usageRecords(first: 5) { nodes { product quantity } } } } } }`),
);
const CREATE_KEY = `mutation($id: ID!) { createApiKey(input: { accountId: $id, name: "made while acting" }) { __typename ... on CreateApiKeySuccess { apiKey { prefix } } ... on Error { code } } }`;
const AUDIT = `query($id: ID!) { node(id: $id) { ... on Account { auditEvents(first: 5) { nodes { action actorRole actorApiKeyPrefix viaActAs } }
  events(first: 5, types: [API_KEY_CREATED]) { nodes { data } } } } }`;

let w: World;
beforeAll(async () => {
  w = await createWorld();
  await setAccountPricing(w.manager.id, { SMS_OUTBOUND: "0.01" });
  await topUp(w.sub.id, "5", w.manager.token);
  await request(
    w.sub.token,
    `mutation($id: ID!) { recordUsage(input: { accountId: $id, product: SMS_OUTBOUND, quantity: 2, idempotencyKey: "act-as-1" }) { __typename } }`,
    { id: w.sub.id },
  );
});

describe("Act-As-Account", () => {
  it("gives a manager exactly the sub-account's schema and data", async () => {
    const introspect = async (token: string, actAs?: string) =>
      printSchema(buildClientSchema((await request(token, getIntrospectionQuery(), {}, actAs)).body.data as unknown as IntrospectionQuery));
    const own = await introspect(w.sub.token);
    expect(await introspect(w.manager.token, w.sub.id)).toBe(own);
    expect(await introspect(OPERATOR_TOKEN, w.sub.id)).toBe(own);
    expect(await introspect(w.manager.token)).not.toBe(own);

    const mine = await request(w.sub.token, TREE);
    const acting = await request(w.manager.token, TREE, {}, w.sub.id);
    expect(acting.status).toBe(200);
    const { actingAs, ...actingViewer } = (acting.body.data as { viewer: Record<string, unknown> }).viewer;
    const { actingAs: ownFlag, ...ownViewer } = (mine.body.data as { viewer: Record<string, unknown> }).viewer;
    expect(actingAs).toBe(true);
    expect(ownFlag).toBe(false);
    expect(actingViewer).toEqual(ownViewer);
    // No prices: the field is not in the schema it is served.
    const pricing = await request(
      w.manager.token,
      `query($id: ID!) { node(id: $id) { ... on SubAccount { pricing { rates { product } } } } }`,
      { id: w.sub.id },
      w.sub.id,
    );
    expect(pricing.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    // The sibling is out of reach, as for the sub-account itself.
    const sibling = await request(w.manager.token, `query($id: ID!) { node(id: $id) { id } }`, { id: w.sibling.id }, w.sub.id);
    expect(sibling.body.data).toEqual({ node: null });
  });

  it("is the 401 of a bad key for an id outside the caller's tree, a sub-account key, or anything that is not a SubAccount id", async () => {
    const unknown = await request(`agk_${"0".repeat(64)}`, "{ viewer { role } }");
    expect(unknown.status).toBe(401);
    for (const [token, actAs] of [
      [w.otherManager.token, w.sub.id], // a foreign manager
      [w.manager.token, w.otherSub.id], // another tree's sub-account
      [w.sibling.token, w.sub.id], // a sub-account key
      [w.sub.token, w.sub.id], // itself, with its own key
      [w.manager.token, w.manager.id], // a Manager id
      [w.manager.token, "garbage"],
      [w.manager.token, ""],
    ] as const) {
      const res = await request(token, "{ viewer { role } }", {}, actAs);
      expect({ status: res.status, body: res.body }, `${actAs}`).toEqual({ status: unknown.status, body: unknown.body });
    }
  });

  it("records its changes as the caller's, with viaActAs", async () => {
    const made = await request(w.manager.token, CREATE_KEY, { id: w.sub.id }, w.sub.id);
    expect((made.body.data as { createApiKey: { __typename: string } }).createApiKey.__typename).toBe("CreateApiKeySuccess");
    const byOperator = await request(OPERATOR_TOKEN, CREATE_KEY, { id: w.sub.id }, w.sub.id);
    expect((byOperator.body.data as { createApiKey: { __typename: string } }).createApiKey.__typename).toBe("CreateApiKeySuccess");
    const audit = await request(w.manager.token, AUDIT, { id: w.sub.id });
    const node = (audit.body.data as { node: { auditEvents: { nodes: Record<string, unknown>[] }; events: { nodes: { data: { actor: unknown } }[] } } }).node;
    expect(node.auditEvents.nodes.slice(0, 2)).toEqual([
      { action: "apiKey.create", actorRole: "OPERATOR", actorApiKeyPrefix: null, viaActAs: true },
      { action: "apiKey.create", actorRole: "MANAGER", actorApiKeyPrefix: w.manager.token.slice(0, 12), viaActAs: true },
    ]);
    expect(node.events.nodes.slice(0, 2).map((e) => e.data.actor)).toEqual([
      { role: "OPERATOR", apiKeyPrefix: null, viaActAs: true },
      { role: "MANAGER", apiKeyPrefix: w.manager.token.slice(0, 12), viaActAs: true },
    ]);
    // recordUsage's one statement records the caller too.
    await request(
      w.manager.token,
      `mutation($id: ID!) { recordUsage(input: { accountId: $id, product: SMS_OUTBOUND, quantity: 1, idempotencyKey: "acting-usage" }) { __typename } }`,
      { id: w.sub.id },
      w.sub.id,
    );
    const usage = await request(
      w.manager.token,
      `query($id: ID!) { node(id: $id) { ... on Account { auditEvents(first: 1) { nodes { action actorRole viaActAs } }
      events(first: 1, types: [USAGE_RECORDED]) { nodes { data } } } } }`,
      { id: w.sub.id },
    );
    const usageNode = (usage.body.data as { node: { auditEvents: { nodes: unknown[] }; events: { nodes: { data: { actor: unknown } }[] } } }).node;
    expect(usageNode.auditEvents.nodes[0]).toEqual({ action: "usage.record", actorRole: "MANAGER", viaActAs: true });
    expect(usageNode.events.nodes[0]!.data.actor).toEqual({ role: "MANAGER", apiKeyPrefix: w.manager.token.slice(0, 12), viaActAs: true });
    // The sub-account sees that its manager acted, not the manager's key.
    const seenBySub = await request(
      w.sub.token,
      `query($id: ID!) { node(id: $id) { ... on Account { auditEvents(first: 1) { nodes { actorRole actorApiKeyPrefix viaActAs } } } } }`,
      {
        id: w.sub.id,
      },
    );
    expect(seenBySub.body.data).toEqual({ node: { auditEvents: { nodes: [{ actorRole: "MANAGER", actorApiKeyPrefix: null, viaActAs: true }] } } });
  });

  it("spends the calling key's rate-limit budget", async () => {
    const limited = createApp({ operatorToken: OPERATOR_TOKEN, production: false, rateLimits: { perKey: 3, perAddress: 100, windowSeconds: 60 } });
    const statuses = [
      (await request(w.manager.token, "{ viewer { role } }", {}, undefined, limited)).status,
      (await request(w.manager.token, "{ viewer { role } }", {}, w.sub.id, limited)).status,
      (await request(w.manager.token, "{ viewer { role } }", {}, w.sibling.id, limited)).status,
      (await request(w.manager.token, "{ viewer { role } }", {}, w.sub.id, limited)).status,
      (await request(w.manager.token, "{ viewer { role } }", {}, undefined, limited)).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // The sub-account's own key has its own budget.
    expect((await request(w.sub.token, "{ viewer { role } }", {}, undefined, limited)).status).toBe(200);
    await limited.close();
  });
});
