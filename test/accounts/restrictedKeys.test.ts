// Least-privilege keys (DOMAIN.md "Least-privilege keys", "Acting as a
// sub-account"): what a restricted key is told, what it may create and roll
// (no escalation), its schema by introspection, acting as a sub-account with
// one, the second line in the resolvers and services, events and the CSV
// export without BILLING_READ, and what it costs in SQL statements.
// (The matrix of every permission against every operation is
// test/security/permissions.test.ts.)
import { execute, parse } from "graphql";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Permission } from "../../src/auth/actions.js";
import type { AccountViewer } from "../../src/auth/viewer.js";
import type { Context } from "../../src/context.js";
import { prisma } from "../../src/db/client.js";
import { ForbiddenError } from "../../src/domain/errors.js";
import { schema } from "../../src/schema/index.js";
import * as apiKeys from "../../src/services/apiKeys.js";
import { app, countStatements, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { type ApiKeyPermission, createApiKey, createWorld, setAccountPricing, topUp, unique, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";
import { type SseSubscription, subscribe } from "../helpers/sse.js";

/** What a plain-string document's response is read as (documents here are built per case). */
// biome-ignore lint/suspicious/noExplicitAny: run-time documents, see above
type Loose = any;

interface Answer {
  status: number;
  body: { data?: Loose; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** One request as `token`, through the real HTTP layer (test/helpers/app.ts). */
const post = (token: string, query: string, variables: object = {}, headers: Record<string, string> = {}): Promise<Answer> =>
  gql<Loose, object>(query, { token, variables, headers });
/** Like post, but fails the test on any error; returns `data`. */
const data = (token: string, query: string, variables: object = {}, headers: Record<string, string> = {}): Promise<Loose> =>
  gqlData<Loose, object>(query, { token, variables, headers });

let w: World;
const keyOf = (accountId: string, permissions?: ApiKeyPermission[], token?: string) =>
  createApiKey(token ?? w.manager.token, accountId, unique("restricted"), { permissions });

const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  __typename ... on CreateApiKeySuccess { secret apiKey { id permissions } } ... on Error { code message } } }`;
const ROLL_KEY = `mutation($id: ID!) { rollApiKey(input: { id: $id, expireCurrentInSeconds: 0 }) {
  __typename ... on RollApiKeySuccess { secret apiKey { id name permissions } previous { id } } ... on Error { code message } } }`;
const RECORD_USAGE = `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename ... on Error { code message } } }`;
const charge = (token: string, accountId: string, headers: Record<string, string> = {}) =>
  post(token, RECORD_USAGE, { input: { accountId, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("rk") } }, headers);
const keysOf = (accountId: string) => prisma.apiKey.count({ where: { accountId: dbId(accountId) } });

beforeAll(async () => {
  w = await createWorld();
  await setAccountPricing(w.manager.id, { SMS_OUTBOUND: "0.01" });
  await topUp(w.manager.id, "20");
  await topUp(w.sub.id, "10", w.manager.token);
});

describe("creating a restricted key", () => {
  it("stores its permissions once each, in the enum's order, and shows them on ApiKey.permissions and in its event; null for an unrestricted key", async () => {
    const made = (
      await data(w.manager.token, CREATE_KEY, {
        input: { accountId: w.sub.id, name: unique("k"), permissions: ["USAGE_WRITE", "ACCOUNTS_READ", "USAGE_WRITE"] },
      })
    ).createApiKey;
    expect(made.__typename).toBe("CreateApiKeySuccess");
    expect(made.apiKey.permissions).toEqual(["ACCOUNTS_READ", "USAGE_WRITE"]);
    const row = await prisma.apiKey.findUnique({ where: { id: dbId(made.apiKey.id) } });
    expect(row).toMatchObject({ restricted: true, permissions: ["ACCOUNTS_READ", "USAGE_WRITE"] });
    const event = await prisma.event.findFirst({ where: { accountId: dbId(w.sub.id), type: "API_KEY_CREATED" }, orderBy: { occurredAt: "desc" } });
    expect((event!.data as Loose).apiKey).toMatchObject({ id: made.apiKey.id, permissions: ["ACCOUNTS_READ", "USAGE_WRITE"] });
    const own = await data(made.secret, `{ viewer { apiKey { id permissions } } }`);
    expect(own.viewer.apiKey).toEqual({ id: made.apiKey.id, permissions: ["ACCOUNTS_READ", "USAGE_WRITE"] });
    const plain = (await data(w.manager.token, CREATE_KEY, { input: { accountId: w.sub.id, name: unique("k") } })).createApiKey;
    expect(plain.apiKey.permissions).toBeNull();
    expect(await prisma.apiKey.findUnique({ where: { id: dbId(plain.apiKey.id) } })).toMatchObject({ restricted: false, permissions: [] });
  });

  it("a key with no permissions at all still authenticates, and can only say who it is", async () => {
    const none = await keyOf(w.sub.id, []);
    expect((await data(none.secret, `{ viewer { role actingAs apiKey { permissions } account { id } } }`)).viewer).toEqual({
      role: "SUB_ACCOUNT",
      actingAs: false,
      apiKey: { permissions: [] },
      account: { id: w.sub.id },
    });
    const types = (await data(none.secret, `{ __schema { mutationType { name } subscriptionType { name } } }`)).__schema;
    expect(types).toEqual({ mutationType: null, subscriptionType: null });
  });

  it("a restricted key creates only keys restricted to some of its own permissions: an unrestricted or wider one is ForbiddenError, and nothing is created", async () => {
    const keysOnly = await keyOf(w.sub.id, ["KEYS_WRITE", "USAGE_WRITE"]);
    const before = await keysOf(w.sub.id);
    const attempt = async (permissions: Permission[] | null) =>
      (await data(keysOnly.secret, CREATE_KEY, { input: { accountId: w.sub.id, name: unique("k"), permissions } })).createApiKey;
    const unrestricted = await attempt(null);
    expect(unrestricted).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect(unrestricted.message).toMatch(/restricted/);
    const wider = await attempt(["KEYS_WRITE", "ACCOUNTS_READ"]);
    expect(wider).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect(wider.message).toContain("ACCOUNTS_READ");
    // Permissions a sub-account's role never has are more than it holds, too.
    expect((await attempt(["BILLING_READ"])).__typename).toBe("ForbiddenError");
    expect(await keysOf(w.sub.id)).toBe(before);
    const narrower = await attempt(["USAGE_WRITE"]);
    expect(narrower).toMatchObject({ __typename: "CreateApiKeySuccess", apiKey: { permissions: ["USAGE_WRITE"] } });
    expect(await keysOf(w.sub.id)).toBe(before + 1);
  });
});

describe("rolling a restricted key", () => {
  it("keeps the permissions on the new secret, and the new secret is as restricted as the old", async () => {
    const rolled = await keyOf(w.sub.id, ["ACCOUNTS_READ"]);
    const result = (await data(w.manager.token, ROLL_KEY, { id: rolled.id })).rollApiKey;
    expect(result).toMatchObject({ __typename: "RollApiKeySuccess", apiKey: { permissions: ["ACCOUNTS_READ"] }, previous: { id: rolled.id } });
    const refused = await post(result.secret, `{ viewer { account { events { totalCount } } } }`);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", permission: "EVENTS_READ" });
    // The old secret stopped at once (expireCurrentInSeconds: 0): the 401 of an unknown key.
    expect((await post(rolled.secret, `{ viewer { role } }`)).status).toBe(401);
  });

  it("a restricted key rolls only keys holding some of its permissions: rolling an unrestricted or wider key is ForbiddenError and changes nothing", async () => {
    const roller = await keyOf(w.sub.id, ["KEYS_WRITE"]);
    const unrestricted = await keyOf(w.sub.id);
    const wider = await keyOf(w.sub.id, ["KEYS_WRITE", "USAGE_WRITE"]);
    const rowsNow = () =>
      prisma.apiKey.findMany({
        where: { accountId: dbId(w.sub.id) },
        select: { id: true, name: true, secretHash: true, revokedAt: true, expiresAt: true, restricted: true, permissions: true },
        orderBy: { id: "asc" },
      });
    const before = await rowsNow();
    for (const target of [unrestricted, wider]) {
      const answer = (await data(roller.secret, ROLL_KEY, { id: target.id })).rollApiKey;
      expect(answer).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    }
    expect(await rowsNow()).toEqual(before);
    // Both still work.
    for (const target of [unrestricted, wider]) expect((await post(target.secret, `{ viewer { role } }`)).status).toBe(200);
    const same = await keyOf(w.sub.id, ["KEYS_WRITE"]);
    expect((await data(roller.secret, ROLL_KEY, { id: same.id })).rollApiKey).toMatchObject({
      __typename: "RollApiKeySuccess",
      apiKey: { permissions: ["KEYS_WRITE"] },
    });
  });

  it("a key of another account or tree is NotFoundError, exactly like a made-up one", async () => {
    const roller = await keyOf(w.sub.id, ["KEYS_WRITE"]);
    const sibling = await keyOf(w.sibling.id, ["KEYS_WRITE"]);
    const foreign = await createApiKey(w.otherManager.token, w.otherSub.id, "foreign", { permissions: ["KEYS_WRITE"] });
    const missing = Buffer.from("ApiKey:00000000-0000-4000-8000-000000000000").toString("base64");
    const answers = [];
    for (const id of [sibling.id, foreign.id, missing]) answers.push((await data(roller.secret, ROLL_KEY, { id })).rollApiKey);
    expect(answers[0]).toEqual(answers[2]);
    expect(answers[1]).toEqual(answers[2]);
    expect(answers[2].__typename).toBe("NotFoundError");
  });
});

describe("usage triggers that suspend", () => {
  const CREATE_TRIGGER = `mutation($input: CreateUsageTriggerInput!) { createUsageTrigger(input: $input) {
    __typename ... on CreateUsageTriggerSuccess { trigger { id action } } ... on Error { code message } } }`;
  const suspending = () => ({ accountId: w.sibling.id, condition: "SPEND_REACHES", threshold: "900.00", period: "MONTHLY", action: "SUSPEND" });

  it("need ACCOUNTS_WRITE besides WEBHOOKS_WRITE (suspending changes the account's status); NOTIFY triggers do not", async () => {
    const webhooksOnly = await keyOf(w.manager.id, ["WEBHOOKS_WRITE"], w.manager.token);
    const triggers = () => prisma.usageTrigger.count({ where: { accountId: dbId(w.sibling.id) } });
    const before = await triggers();
    const refused = (await data(webhooksOnly.secret, CREATE_TRIGGER, { input: suspending() })).createUsageTrigger;
    expect(refused).toEqual({ __typename: "ForbiddenError", code: "FORBIDDEN", message: "This API key lacks the ACCOUNTS_WRITE permission" });
    expect(await triggers()).toBe(before);
    const notify = (await data(webhooksOnly.secret, CREATE_TRIGGER, { input: { ...suspending(), action: "NOTIFY" } })).createUsageTrigger;
    expect(notify).toMatchObject({ __typename: "CreateUsageTriggerSuccess", trigger: { action: "NOTIFY" } });
    const both = await keyOf(w.manager.id, ["WEBHOOKS_WRITE", "ACCOUNTS_WRITE"], w.manager.token);
    const made = (await data(both.secret, CREATE_TRIGGER, { input: suspending() })).createUsageTrigger;
    expect(made).toMatchObject({ __typename: "CreateUsageTriggerSuccess", trigger: { action: "SUSPEND" } });
    // Deleting it takes the same two.
    const del = `mutation($id: ID!) { deleteUsageTrigger(input: { id: $id }) { __typename ... on Error { code message } } }`;
    expect((await data(webhooksOnly.secret, del, { id: made.trigger.id })).deleteUsageTrigger.__typename).toBe("ForbiddenError");
    expect((await data(both.secret, del, { id: made.trigger.id })).deleteUsageTrigger.__typename).toBe("DeleteUsageTriggerSuccess");
  });
});

describe("a restricted key's schema", () => {
  it("leaves out, for introspection, every type and field its permissions do not cover", async () => {
    const typeNames = async (secret: string) =>
      new Set((await data(secret, `{ __schema { types { name } } }`)).__schema.types.map((t: { name: string }) => t.name));
    const fieldsOf = async (secret: string, type: string) =>
      ((await data(secret, `query($t: String!) { __type(name: $t) { fields { name } } }`, { t: type })).__type?.fields ?? []).map(
        (f: { name: string }) => f.name,
      );
    const readOnly = await keyOf(w.manager.id, ["ACCOUNTS_READ"], w.manager.token);
    const types = await typeNames(readOnly.secret);
    for (const gone of ["Event", "LedgerEntry", "PriceList", "WebhookEndpoint", "WebhookDelivery", "UsageTrigger", "Mutation", "Subscription"]) {
      expect(types.has(gone), gone).toBe(false);
    }
    expect(types.has("AuditEvent")).toBe(true);
    expect(await fieldsOf(readOnly.secret, "Manager")).not.toContain("pricing");
    expect(await fieldsOf(readOnly.secret, "Manager")).not.toContain("events");
    const usageOnly = await keyOf(w.manager.id, ["USAGE_WRITE"], w.manager.token);
    expect(await fieldsOf(usageOnly.secret, "Mutation")).toEqual(["recordUsage"]);
    expect(await fieldsOf(usageOnly.secret, "Manager")).toEqual(["id"]);
    // Every permission: the restricted key's schema equals the unrestricted one.
    const all = await keyOf(
      w.manager.id,
      ["ACCOUNTS_READ", "ACCOUNTS_WRITE", "KEYS_WRITE", "NUMBERS_WRITE", "BILLING_READ", "BILLING_WRITE", "USAGE_WRITE", "EVENTS_READ", "WEBHOOKS_WRITE"],
      w.manager.token,
    );
    const introspect = `{ __schema { types { name fields { name } inputFields { name } } } }`;
    expect(await data(all.secret, introspect)).toEqual(await data(w.manager.token, introspect));
  });

  it("naming what it leaves out is FORBIDDEN naming the permission it lacks, as a literal, a variable, or an input type", async () => {
    const readOnly = await keyOf(w.manager.id, ["ACCOUNTS_READ"], w.manager.token);
    const field = await post(readOnly.secret, `{ viewer { account { events { totalCount } } } }`);
    expect(field.body.errors).toEqual([
      expect.objectContaining({
        message: "Account.events needs the EVENTS_READ permission, which this API key lacks",
        extensions: { code: "FORBIDDEN", permission: "EVENTS_READ" },
      }),
    ]);
    const mutation = await post(readOnly.secret, `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename } }`, {
      input: { accountId: w.sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("x") },
    });
    expect(mutation.body.data ?? null).toBeNull();
    expect(mutation.body.errors?.map((e) => e.extensions)).toEqual(expect.arrayContaining([{ code: "FORBIDDEN", permission: "USAGE_WRITE" }]));
    for (const e of mutation.body.errors ?? []) expect(e.extensions?.code).toBe("FORBIDDEN");
    const fragment = await post(readOnly.secret, `query($id: ID!) { node(id: $id) { ... on Event { data } } }`, { id: w.sub.id });
    expect(fragment.body.errors?.[0]?.extensions).toEqual({ code: "FORBIDDEN", permission: "EVENTS_READ" });
    // The sub-account role's own limits are still told as the role's.
    const subKey = await keyOf(w.sub.id, ["ACCOUNTS_READ"]);
    const roleLimit = await post(subKey.secret, `{ viewer { account { ... on SubAccount { pricing { source } } } } }`);
    expect(roleLimit.body.errors?.[0]?.message).toBe("SubAccount.pricing is not available to your role");
  });

  it("the resolvers and services refuse a key without the permission even against the full schema (the second line)", async () => {
    const row = await prisma.apiKey.findUniqueOrThrow({ where: { id: dbId((await keyOf(w.manager.id, ["ACCOUNTS_READ"], w.manager.token)).id) } });
    const account = await prisma.account.findUniqueOrThrow({ where: { id: dbId(w.manager.id) } });
    const viewer: AccountViewer = {
      role: "MANAGER",
      accountId: account.id,
      managerId: null,
      accountStatus: "ACTIVE",
      managerStatus: "ACTIVE",
      apiKey: { id: row.id, prefix: row.prefix, permissions: new Set(["ACCOUNTS_READ"]) },
    };
    const contextValue: Context = { viewer, requestId: "second-line", typedErrors: [], callerAccount: account };
    const run = async (query: string) => execute({ schema, document: parse(query), contextValue });
    const refusals = [];
    for (const query of [`{ viewer { account { events { totalCount } } } }`, `{ viewer { account { ... on Manager { pricing { source } } } } }`]) {
      const result = await run(query);
      refusals.push(result.errors?.map((e) => [e.path?.join("."), e.extensions]));
    }
    expect(refusals).toEqual([
      [["viewer.account.events", { code: "FORBIDDEN", permission: "EVENTS_READ" }]],
      [["viewer.account.pricing", { code: "FORBIDDEN", permission: "BILLING_READ" }]],
    ]);
    expect(((await run(`{ viewer { account { email } } }`)).data as Loose).viewer.account.email).toBe(account.email);
    const before = await keysOf(w.manager.id);
    await expect(apiKeys.createApiKey(viewer, { id: account.id, kind: "MANAGER" }, "second line")).rejects.toBeInstanceOf(ForbiddenError);
    await expect(apiKeys.createApiKey(viewer, { id: account.id, kind: "MANAGER" }, "second line")).rejects.toThrow(
      "This API key lacks the KEYS_WRITE permission",
    );
    expect(await keysOf(w.manager.id)).toBe(before);
  });

  it("costs no more SQL statements per request than an unrestricted key", async () => {
    const tree = `{ viewer { account { id email ... on Manager { subAccounts(first: 50) { totalCount nodes { id email status balance { available { amount } } phoneNumbers { nodes { number } } } } } } } }`;
    const restricted = await keyOf(w.manager.id, ["ACCOUNTS_READ"], w.manager.token);
    // Warm both (schema built, key's lastUsedAt written), then count.
    await data(restricted.secret, tree);
    await data(w.manager.token, tree);
    const a = await countStatements(() => data(restricted.secret, tree));
    const b = await countStatements(() => data(w.manager.token, tree));
    expect(a.result).toEqual(b.result);
    expect(a.statements).toBe(b.statements);
    expect(a.statements).toBeLessThanOrEqual(3);
  });
});

describe("acting as a sub-account with a restricted manager key", () => {
  it("has the intersection of both rights: the sub-account's schema less what the key lacks, exactly the sub-account's own key with those permissions", async () => {
    const managerKey = await keyOf(w.manager.id, ["ACCOUNTS_READ", "BILLING_READ"], w.manager.token);
    const subKey = await keyOf(w.sub.id, ["ACCOUNTS_READ", "BILLING_READ"]);
    const introspect = `{ __schema { types { name fields { name } inputFields { name } } } }`;
    const actAs = { "act-as-account": w.sub.id };
    expect(await data(managerKey.secret, introspect, {}, actAs)).toEqual(await data(subKey.secret, introspect));
    const tree = `{ viewer { actingAs account { id email balance { available { amount } } usageRecords { totalCount } } } }`;
    const acting = await data(managerKey.secret, tree, {}, actAs);
    const own = await data(subKey.secret, tree);
    expect(acting.viewer.actingAs).toBe(true);
    expect(acting.viewer.account).toEqual(own.viewer.account);
    // Neither the sub-account's role nor the key may record usage.
    const refused = await charge(managerKey.secret, w.sub.id, actAs);
    expect(refused.body.errors?.[0]?.extensions).toEqual({ code: "FORBIDDEN", permission: "USAGE_WRITE" });
  });

  it("makes the changes the key's permissions cover, recorded as the manager's key with viaActAs", async () => {
    const managerKey = await keyOf(w.manager.id, ["USAGE_WRITE"], w.manager.token);
    const prefix = (await prisma.apiKey.findUniqueOrThrow({ where: { id: dbId(managerKey.id) } })).prefix;
    const done = await charge(managerKey.secret, w.sub.id, { "act-as-account": w.sub.id });
    expect(done.body.data?.recordUsage.__typename).toBe("RecordUsageSuccess");
    const event = await prisma.event.findFirst({ where: { accountId: dbId(w.sub.id), type: "USAGE_RECORDED" }, orderBy: { occurredAt: "desc" } });
    expect(event).toMatchObject({ actorRole: "MANAGER", actorApiKeyPrefix: prefix, viaActAs: true });
    // A key without USAGE_WRITE acting as the same sub-account may not.
    const other = await keyOf(w.manager.id, ["ACCOUNTS_READ"], w.manager.token);
    expect((await charge(other.secret, w.sub.id, { "act-as-account": w.sub.id })).body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("events and reports read without BILLING_READ", () => {
  const EVENTS = graphql(`subscription($types: [EventType!]) { events(types: $types) { id type data } }`);
  const open: SseSubscription<unknown>[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });

  it("a manager's events carry no price, cost or ledger entry without BILLING_READ, in Account.events and the subscription; with it they do", async () => {
    const eventsOnly = await keyOf(w.manager.id, ["EVENTS_READ"], w.manager.token);
    const withBilling = await keyOf(w.manager.id, ["EVENTS_READ", "BILLING_READ"], w.manager.token);
    const bare = subscribe(EVENTS, { types: ["USAGE_RECORDED"] }, eventsOnly.secret);
    const billed = subscribe(EVENTS, { types: ["USAGE_RECORDED"] }, withBilling.secret);
    open.push(bare as SseSubscription<unknown>, billed as SseSubscription<unknown>);
    expect([await bare.status, await billed.status]).toEqual([200, 200]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await charge(w.sub.token, w.sub.id)).body.data?.recordUsage.__typename).toBe("RecordUsageSuccess");
    await bare.waitFor(1);
    await billed.waitFor(1);
    const live = (s: SseSubscription<unknown>) => (s.received[0]!.data as { events: { data: Record<string, unknown> } }).events.data;
    expect(JSON.stringify(live(bare))).not.toMatch(/cost|unitPrice|ledgerEntry/);
    expect(JSON.stringify(live(billed))).toMatch(/cost/);
    const listed = async (secret: string) =>
      (await data(secret, `{ viewer { account { events(first: 1, types: [USAGE_RECORDED]) { nodes { data } } } } }`)).viewer.account.events.nodes[0].data;
    expect(JSON.stringify(await listed(eventsOnly.secret))).not.toMatch(/cost|unitPrice|ledgerEntry/);
    expect(await listed(withBilling.secret)).toEqual(live(billed));
  });

  it("a key without EVENTS_READ cannot subscribe: FORBIDDEN before any stream", async () => {
    const readOnly = await keyOf(w.manager.id, ["ACCOUNTS_READ"], w.manager.token);
    const response = await app.fetch("http://gateway.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${readOnly.secret}` },
      body: JSON.stringify({ query: "subscription { events { id } }" }),
    });
    const body = await response.text();
    expect(body).toContain('"code":"FORBIDDEN"');
    expect(body).toContain('"permission":"EVENTS_READ"');
    expect(body).not.toContain('"data":{');
  });

  it("sorting a report by cost needs BILLING_READ as the cost itself does", async () => {
    const readOnly = await keyOf(w.manager.id, ["ACCOUNTS_READ"], w.manager.token);
    const res = await post(readOnly.secret, `{ viewer { account { ... on Manager { usageReport(sort: COST_DESC) { totalCount } } } } }`);
    expect(res.body.errors?.[0]?.extensions).toEqual({ code: "FORBIDDEN", permission: "BILLING_READ" });
    const fine = await data(readOnly.secret, `{ viewer { account { ... on Manager { usageReport(sort: TIME_ASC) { totalCount } } } } }`);
    expect(fine.viewer.account.usageReport.totalCount).toBeGreaterThan(0);
  });

  it("the CSV export needs ACCOUNTS_READ (403 otherwise) and has a cost column only with BILLING_READ", async () => {
    const csv = (secret: string) => app.fetch("http://gateway.test/reports/usage.csv", { headers: { authorization: `Bearer ${secret}` } });
    const usageOnly = await keyOf(w.manager.id, ["USAGE_WRITE"], w.manager.token);
    const refused = await csv(usageOnly.secret);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ errors: [{ message: "This API key lacks the ACCOUNTS_READ permission", extensions: { code: "FORBIDDEN" } }] });
    const quantities = await csv((await keyOf(w.manager.id, ["ACCOUNTS_READ"], w.manager.token)).secret);
    expect(quantities.status).toBe(200);
    const [header] = (await quantities.text()).split("\r\n");
    expect(header).not.toContain("cost");
    const costs = await csv((await keyOf(w.manager.id, ["ACCOUNTS_READ", "BILLING_READ"], w.manager.token)).secret);
    expect((await costs.text()).split("\r\n")[0]).toContain("cost");
    expect((await post(OPERATOR_TOKEN, `{ viewer { role } }`)).status).toBe(200);
  });
});
