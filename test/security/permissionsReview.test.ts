// Independent review of least-privilege API keys (DOMAIN.md "Least-privilege
// keys", "Acting as a sub-account", "Events and webhooks"; the contract's
// ApiKeyPermission), written as a hostile client holding a restricted key
// would probe them. Each test pins a rule that holds (a regression test);
// those marked "Found in review" pin a hole the review found, now fixed.
//
// Network: only 127.0.0.1 receivers started here (WEBHOOK_ALLOW_INSECURE).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Permission } from "../../src/auth/actions.js";
import { prisma } from "../../src/db/client.js";
import { dispatchOnce, WebhookDeliverer } from "../../src/webhooks/delivery.js";
import { app, type GqlResponse, gql, gqlData } from "../helpers/app.js";
import { createWorld, provisionNumber, setAccountPricing, topUp, unique, type World } from "../helpers/factories.js";
import { dbId, missingId } from "../helpers/ids.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

// ------------------------------------------------------------------ helpers

// biome-ignore lint/suspicious/noExplicitAny: run-time documents, whose shapes the query beside each read states
type Loose = any;

/** One GraphQL request as `token` (acting as `actAs` when given), through the real HTTP layer. */
const call = <T = Loose>(query: string, options: { token: string; variables?: object; actAs?: string }): Promise<GqlResponse<T>> =>
  gql<T, object>(query, options);
/** Like call, but fails the test on any error; returns `data`. */
const data = <T = Loose>(query: string, options: { token: string; variables?: object; actAs?: string }): Promise<T> => gqlData<T, object>(query, options);
/** A request that must fail before anything runs: FORBIDDEN errors and no data at all. */
async function refused(query: string, options: { token: string; variables?: object; actAs?: string }): Promise<GqlResponse> {
  const res = await call(query, options);
  expect(res.body.data ?? null).toBeNull();
  expect(res.body.errors?.length).toBeGreaterThan(0);
  expect(res.body.errors!.map((e) => e.extensions?.code).filter((c) => c !== "FORBIDDEN")).toEqual([]);
  return res;
}

const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  __typename ... on CreateApiKeySuccess { secret apiKey { id permissions } } ... on Error { code message } } }`;

/** A key of `accountId` restricted to `permissions` (null: unrestricted), made by `token`. */
async function restrictedKey(token: string, accountId: string, permissions: Permission[] | null, actAs?: string) {
  const r = (await data(CREATE_KEY, { token, actAs, variables: { input: { accountId, name: unique("rk"), permissions } } })).createApiKey;
  if (r.__typename !== "CreateApiKeySuccess") throw new Error(`createApiKey failed: ${JSON.stringify(r)}`);
  return { id: r.apiKey.id as string, secret: r.secret as string, permissions: r.apiKey.permissions as Permission[] | null };
}

const RECORD_USAGE = `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename
  ... on RecordUsageSuccess { usageRecord { id } } ... on Error { code message } } }`;
async function charge(token: string, accountId: string): Promise<string> {
  const r = (await data(RECORD_USAGE, { token, variables: { input: { accountId, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("pr") } } }))
    .recordUsage;
  if (r.__typename !== "RecordUsageSuccess") throw new Error(JSON.stringify(r));
  return r.usageRecord.id;
}

const globalId = (typename: string, id: string) => Buffer.from(`${typename}:${id}`).toString("base64");

function keysIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysIn);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...keysIn(v)]);
  return [];
}
/** What an event read without BILLING_READ must never carry (the privileged part). */
const PRIVILEGED_KEYS = ["unitPrice", "cost", "rates", "ledgerEntryId", "counterparty", "charge", "usageRecordId"];

const csv = (token: string, actAs?: string) =>
  app.fetch("http://gateway.test/reports/usage.csv", {
    headers: { authorization: `Bearer ${token}`, ...(actAs ? { "act-as-account": actAs } : {}) },
  });

/** Posts a subscription over SSE and collects `next` payloads for `ms`. */
async function sse(query: string, token: string, during: () => Promise<void>, ms = 1500): Promise<{ status: number; payloads: Loose[]; text: string }> {
  const controller = new AbortController();
  const res = await app.fetch("http://gateway.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables: {} }),
    signal: controller.signal,
  });
  let text = "";
  const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
  const reading = (async () => {
    try {
      for (;;) {
        const chunk = await reader!.read();
        if (chunk.done) return;
        text += chunk.value;
      }
    } catch {
      // cancelled
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 200));
  await during();
  await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, ms))]);
  controller.abort();
  await reader?.cancel().catch(() => {});
  const payloads = text
    .split("\n\n")
    .map((m) =>
      m
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join(""),
    )
    .filter((d) => d.startsWith("{"))
    .map((d) => JSON.parse(d));
  return { status: res.status, payloads, text };
}

// ------------------------------------------------------------------ world

let w: World;
let usageRecordId: string;
let eventId: string;
let auditEventId: string;
let ledgerEntryId: string;
let phoneNumberId: string;
let endpointId: string;
let triggerId: string;
const receivers: Receiver[] = [];
const saved = { insecure: process.env.WEBHOOK_ALLOW_INSECURE };

beforeAll(async () => {
  process.env.WEBHOOK_ALLOW_INSECURE = "true";
  w = await createWorld();
  await setAccountPricing(w.manager.id, { SMS_OUTBOUND: "0.01" });
  await topUp(w.manager.id, "50");
  await topUp(w.sub.id, "10", w.manager.token);
  usageRecordId = await charge(w.manager.token, w.sub.id);
  const ev = await data(`query($id: ID!) { node(id: $id) { ... on Account { events(first: 1, types: [USAGE_RECORDED]) { nodes { id } } } } }`, {
    token: w.manager.token,
    variables: { id: w.sub.id },
  });
  eventId = ev.node.events.nodes[0].id;
  const au = await data(`query($id: ID!) { node(id: $id) { ... on Account { auditEvents(first: 1) { nodes { id } } } } }`, {
    token: w.manager.token,
    variables: { id: w.sub.id },
  });
  auditEventId = au.node.auditEvents.nodes[0].id;
  const entry = await prisma.ledgerEntry.findFirst({ where: { balanceAccountId: dbId(w.sub.id) } });
  ledgerEntryId = globalId("LedgerEntry", entry!.id);
  phoneNumberId = (await provisionNumber(w.manager.token, w.sub.id)).id;
  const ep = await data(
    `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename ... on CreateWebhookEndpointSuccess { endpoint { id } } } }`,
    { token: w.manager.token, variables: { input: { accountId: w.manager.id, url: "http://127.0.0.1:9/unused", eventTypes: ["PRICING_UPDATED"] } } },
  );
  endpointId = ep.createWebhookEndpoint.endpoint.id;
  const tr = await data(
    `mutation($input: CreateUsageTriggerInput!) { createUsageTrigger(input: $input) { __typename ... on CreateUsageTriggerSuccess { trigger { id } } ... on Error { message } } }`,
    {
      token: w.manager.token,
      variables: { input: { accountId: w.sub.id, condition: "SPEND_REACHES", period: "MONTHLY", threshold: "1000", action: "NOTIFY" } },
    },
  );
  triggerId = tr.createUsageTrigger.trigger.id;
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  if (saved.insecure === undefined) delete process.env.WEBHOOK_ALLOW_INSECURE;
  else process.env.WEBHOOK_ALLOW_INSECURE = saved.insecure;
});

// ------------------------------------------------------- stored permissions

describe("what a key is restricted to", () => {
  it("permissions are stored once each, in the contract's order; [] is restricted to nothing (not null); omitted is unrestricted", async () => {
    const dup = await restrictedKey(w.manager.token, w.manager.id, ["EVENTS_READ", "ACCOUNTS_READ", "EVENTS_READ", "ACCOUNTS_READ"]);
    expect(dup.permissions).toEqual(["ACCOUNTS_READ", "EVENTS_READ"]);
    const empty = await restrictedKey(w.manager.token, w.manager.id, []);
    expect(empty.permissions).toEqual([]);
    const open = await restrictedKey(w.manager.token, w.manager.id, null);
    expect(open.permissions).toBeNull();
    // The key reads its own permissions as stored.
    expect((await data(`{ viewer { apiKey { permissions } } }`, { token: empty.secret })).viewer.apiKey.permissions).toEqual([]);
    expect((await data(`{ viewer { apiKey { permissions } } }`, { token: dup.secret })).viewer.apiKey.permissions).toEqual(["ACCOUNTS_READ", "EVENTS_READ"]);
  });

  it("an unknown permission name is a validation error, as a literal and as a variable, and creates no key", async () => {
    const before = await prisma.apiKey.count({ where: { accountId: dbId(w.manager.id) } });
    const literal = await call(`mutation { createApiKey(input: { accountId: "${w.manager.id}", name: "x", permissions: [EVERYTHING] }) { __typename } }`, {
      token: w.manager.token,
    });
    expect(literal.body.data ?? null).toBeNull();
    const variable = await call(CREATE_KEY, { token: w.manager.token, variables: { input: { accountId: w.manager.id, name: "x", permissions: ["ADMIN"] } } });
    expect(variable.body.data ?? null).toBeNull();
    expect(await prisma.apiKey.count({ where: { accountId: dbId(w.manager.id) } })).toBe(before);
  });
});

// --------------------------------------------------- the empty permission list

describe("a key restricted to [] (nothing)", () => {
  let empty: { secret: string };
  beforeAll(async () => {
    empty = await restrictedKey(w.manager.token, w.manager.id, []);
  });

  it("introspection shows no mutation, no subscription, and none of the restricted types; accounts show only their id", async () => {
    const d = await data(
      `{ __schema { mutationType { name } subscriptionType { name } types { name } }
         sub: __type(name: "SubAccount") { fields { name } } acc: __type(name: "Account") { fields { name } }
         ev: __type(name: "Event") { name } le: __type(name: "LedgerEntry") { name } pl: __type(name: "PriceList") { name }
         we: __type(name: "WebhookEndpoint") { name } wd: __type(name: "WebhookDelivery") { name } ut: __type(name: "UsageTrigger") { name }
         ae: __type(name: "AuditEvent") { name } bal: __type(name: "Balance") { name } }`,
      { token: empty.secret },
    );
    expect(d.__schema.mutationType).toBeNull();
    expect(d.__schema.subscriptionType).toBeNull();
    const types = d.__schema.types.map((t: { name: string }) => t.name);
    for (const gone of ["Event", "LedgerEntry", "PriceList", "WebhookEndpoint", "WebhookDelivery", "UsageTrigger", "AuditEvent", "Balance", "Rate"]) {
      expect(types).not.toContain(gone);
    }
    for (const k of ["ev", "le", "pl", "we", "wd", "ut", "ae", "bal"]) expect(d[k]).toBeNull();
    expect(d.acc.fields.map((f: { name: string }) => f.name)).toEqual(["id"]);
    expect(d.sub.fields.map((f: { name: string }) => f.name).sort()).toEqual(["id", "manager"]);
  });

  it("every account field but the id fails validation (FORBIDDEN): through viewer, node, interface and type fragments, aliases and variables", async () => {
    await refused(`{ viewer { account { email } } }`, { token: empty.secret });
    await refused(`{ viewer { account { ... on Manager { a: subAccounts(first: 1) { totalCount } } } } }`, { token: empty.secret });
    await refused(`query($id: ID!) { node(id: $id) { ... on SubAccount { x: email status } } }`, { token: empty.secret, variables: { id: w.sub.id } });
    await refused(`query($id: ID!) { node(id: $id) { ...F } } fragment F on Account { balance { available { amount } } }`, {
      token: empty.secret,
      variables: { id: w.sub.id },
    });
    await refused(`query($id: ID! = "${w.sub.id}") { node(id: $id) { ... on SubAccount { manager { email } } } }`, { token: empty.secret });
    // The id itself is readable (by design: any key names the accounts it reaches).
    expect((await data(`{ viewer { account { id } } }`, { token: empty.secret })).viewer.account.id).toBe(w.manager.id);
  });

  it("no mutation runs: recordUsage, createApiKey, topUpBalance fail validation and change nothing", async () => {
    const records = await prisma.usageRecord.count({ where: { accountId: dbId(w.sub.id) } });
    const keys = await prisma.apiKey.count({ where: { accountId: dbId(w.manager.id) } });
    await refused(RECORD_USAGE, {
      token: empty.secret,
      variables: { input: { accountId: w.sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("e") } },
    });
    await refused(CREATE_KEY, { token: empty.secret, variables: { input: { accountId: w.manager.id, name: "x", permissions: [] } } });
    await refused(`mutation { topUpBalance(input: { accountId: "${w.sub.id}", amount: "1", idempotencyKey: "${unique("t")}" }) { __typename } }`, {
      token: empty.secret,
    });
    expect(await prisma.usageRecord.count({ where: { accountId: dbId(w.sub.id) } })).toBe(records);
    expect(await prisma.apiKey.count({ where: { accountId: dbId(w.manager.id) } })).toBe(keys);
  });

  it("node/nodes: every restricted row reads as null, exactly as a made-up id (`__typename` tells nothing)", async () => {
    const ids = [eventId, auditEventId, ledgerEntryId, usageRecordId, phoneNumberId, endpointId, triggerId, w.manager.keyId];
    const typenames = ["Event", "AuditEvent", "LedgerEntry", "UsageRecord", "PhoneNumber", "WebhookEndpoint", "UsageTrigger", "ApiKey"];
    const real = await data(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, { token: empty.secret, variables: { ids } });
    const made = await data(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, {
      token: empty.secret,
      variables: { ids: typenames.map(missingId) },
    });
    expect(real.nodes).toEqual(ids.map(() => null));
    expect(real).toEqual(made);
    for (const id of ids) expect((await data(`query($id: ID!) { node(id: $id) { __typename } }`, { token: empty.secret, variables: { id } })).node).toBeNull();
    // And the unrestricted manager key does see them (the probe is not vacuous).
    const full = await data(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }`, { token: w.manager.token, variables: { ids } });
    expect(full.nodes.map((n: { __typename: string } | null) => n?.__typename)).toEqual(typenames);
  });

  it("a fragment on a type that is gone (`... on Event`, `... on LedgerEntry`) fails validation as FORBIDDEN, with no data", async () => {
    await refused(`query($id: ID!) { node(id: $id) { ... on Event { data } } }`, { token: empty.secret, variables: { id: eventId } });
    await refused(`query($id: ID!) { node(id: $id) { ... on LedgerEntry { amount { amount } } } }`, { token: empty.secret, variables: { id: ledgerEntryId } });
    await refused(`query($id: ID!) { nodes(ids: [$id]) { ...E } } fragment E on WebhookEndpoint { url }`, {
      token: empty.secret,
      variables: { id: endpointId },
    });
  });

  it("the CSV export is 403 without ACCOUNTS_READ", async () => {
    const res = await csv(empty.secret);
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain("SMS_OUTBOUND");
  });

  it("the events subscription is not in its schema: SSE gets an error and no event, even while events are written", async () => {
    const { payloads, text } = await sse(`subscription { events { id type data } }`, empty.secret, async () => {
      await charge(w.manager.token, w.sub.id);
    });
    expect(text).not.toContain("USAGE_RECORDED");
    expect(payloads.every((p) => !p.data?.events)).toBe(true);
  });
});

// ---------------------------------------------------------- read permissions

describe("read permissions", () => {
  it("ACCOUNTS_READ without BILLING_READ: lists and quantities, but no cost, price, pricing or ledger (literal, variable, variable default)", async () => {
    const reader = await restrictedKey(w.manager.token, w.manager.id, ["ACCOUNTS_READ"]);
    const d = await data(
      `query($id: ID!) { node(id: $id) { ... on SubAccount { email usageRecords(first: 5) { totalCount nodes { quantity } } balance { available { amount } } } } }`,
      { token: reader.secret, variables: { id: w.sub.id } },
    );
    expect(d.node.email).toBe(w.sub.email);
    expect(d.node.usageRecords.totalCount).toBeGreaterThan(0);
    await refused(`query($id: ID!) { node(id: $id) { ... on SubAccount { usageRecords(first: 5) { nodes { cost { amount } } } } } }`, {
      token: reader.secret,
      variables: { id: w.sub.id },
    });
    await refused(`{ viewer { account { ... on Manager { pricing { rates { unitPrice { amount } } } } } } }`, { token: reader.secret });
    await refused(`{ viewer { account { balance { ledger(first: 1) { totalCount } } } } }`, { token: reader.secret });
    await refused(`{ viewer { account { ... on Manager { usageReport { totals { totalCost { amount } } } } } } }`, { token: reader.secret });
    await refused(`{ viewer { account { usageSummary(from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { lines { cost { amount } } } } } }`, {
      token: reader.secret,
    });
    // Sorting by cost tells costs: refused however the value arrives.
    const bySort = [
      await call(`{ viewer { account { ... on Manager { usageReport(sort: COST_DESC) { totalCount } } } } }`, { token: reader.secret }),
      await call(`query($s: UsageReportSort) { viewer { account { ... on Manager { usageReport(sort: $s) { totalCount } } } } }`, {
        token: reader.secret,
        variables: { s: "COST_ASC" },
      }),
      await call(`query($s: UsageReportSort = COST_DESC) { viewer { account { ... on Manager { usageReport(sort: $s) { totalCount } } } } }`, {
        token: reader.secret,
      }),
    ];
    for (const res of bySort) {
      expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
      expect(res.body.data?.viewer?.account?.usageReport ?? null).toBeNull();
    }
    // A sort that does not reveal cost is fine.
    expect(
      (await data(`{ viewer { account { ... on Manager { usageReport(sort: TIME_DESC) { totalCount } } } } }`, { token: reader.secret })).viewer.account
        .usageReport.totalCount,
    ).toBeGreaterThan(0);
    // No events, no webhooks.
    await refused(`{ viewer { account { events(first: 1) { totalCount } } } }`, { token: reader.secret });
    await refused(`{ viewer { account { webhookEndpoints(first: 1) { totalCount } } } }`, { token: reader.secret });
  });

  it("the CSV export: ACCOUNTS_READ gives quantities without the cost column; with BILLING_READ the cost; acting as a sub-account never", async () => {
    const reader = await restrictedKey(w.manager.token, w.manager.id, ["ACCOUNTS_READ"]);
    const billing = await restrictedKey(w.manager.token, w.manager.id, ["ACCOUNTS_READ", "BILLING_READ"]);
    const header = async (res: Response) => {
      expect(res.status).toBe(200);
      return (await res.text()).split("\r\n")[0]!.split(",");
    };
    expect(await header(await csv(reader.secret))).not.toContain("cost");
    expect(await header(await csv(billing.secret))).toContain("cost");
    expect(await header(await csv(billing.secret, w.sub.id))).not.toContain("cost");
    const onlyBilling = await restrictedKey(w.manager.token, w.manager.id, ["BILLING_READ"]);
    expect((await csv(onlyBilling.secret)).status).toBe(403);
    expect((await csv(onlyBilling.secret, w.sub.id)).status).toBe(403);
  });

  it("EVENTS_READ without BILLING_READ: events carry no privileged part; with BILLING_READ they do", async () => {
    const events = await restrictedKey(w.manager.token, w.manager.id, ["EVENTS_READ"]);
    const both = await restrictedKey(w.manager.token, w.manager.id, ["EVENTS_READ", "BILLING_READ"]);
    const read = async (token: string) =>
      (
        await data(`query($id: ID!) { node(id: $id) { ... on Event { type data } } }`, {
          token,
          variables: { id: eventId },
        })
      ).node;
    const plain = await read(events.secret);
    expect(plain.type).toBe("USAGE_RECORDED");
    expect(keysIn(plain.data).filter((k) => PRIVILEGED_KEYS.includes(k))).toEqual([]);
    const priced = await read(both.secret);
    expect(keysIn(priced.data).some((k) => PRIVILEGED_KEYS.includes(k))).toBe(true);
    // The list reads the same way.
    const list = await data(`{ viewer { account { events(first: 50) { nodes { data } } } } }`, { token: events.secret });
    expect(keysIn(list.viewer.account.events.nodes).filter((k) => PRIVILEGED_KEYS.includes(k))).toEqual([]);
    // Events, but no account fields: the event's account is an id only.
    await refused(`{ viewer { account { events(first: 1) { nodes { account { email } } } } } }`, { token: events.secret });
  });

  it("the events subscription with EVENTS_READ only streams events without their privileged part", async () => {
    const events = await restrictedKey(w.manager.token, w.manager.id, ["EVENTS_READ"]);
    const { payloads } = await sse(`subscription { events(types: [USAGE_RECORDED]) { id type data } }`, events.secret, async () => {
      await charge(w.manager.token, w.sub.id);
    });
    const streamed = payloads.map((p) => p.data?.events).filter(Boolean);
    expect(streamed.length).toBeGreaterThan(0);
    expect(keysIn(streamed.map((e) => e.data)).filter((k) => PRIVILEGED_KEYS.includes(k))).toEqual([]);
  });

  it("a cursor of a list the key may not read is not a cursor of a list it may (BAD_USER_INPUT, no page)", async () => {
    const reader = await restrictedKey(w.manager.token, w.manager.id, ["ACCOUNTS_READ"]);
    const page = await data(`query($id: ID!) { node(id: $id) { ... on Account { events(first: 1) { edges { cursor } } } } }`, {
      token: w.manager.token,
      variables: { id: w.sub.id },
    });
    const eventCursor = page.node.events.edges[0].cursor;
    const res = await call(`query($id: ID!, $after: String) { node(id: $id) { ... on Account { usageRecords(first: 5, after: $after) { totalCount } } } }`, {
      token: reader.secret,
      variables: { id: w.sub.id, after: eventCursor },
    });
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });

  it("restricted reads on another tree still follow the row rules (null, like a made-up id)", async () => {
    const reader = await restrictedKey(w.manager.token, w.manager.id, ["ACCOUNTS_READ", "EVENTS_READ", "BILLING_READ"]);
    const d = await data(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, {
      token: reader.secret,
      variables: { ids: [w.otherSub.id, w.otherManager.id] },
    });
    expect(d.nodes).toEqual([null, null]);
  });
});

// --------------------------------------------------------- mutation payloads

describe("mutation payloads", () => {
  it("USAGE_WRITE: recordUsage runs, its record reads without cost, and its account is an id only", async () => {
    const writer = await restrictedKey(w.manager.token, w.manager.id, ["USAGE_WRITE"]);
    const input = () => ({ accountId: w.sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("u") });
    const ok = await data(
      `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename ... on RecordUsageSuccess { usageRecord { id quantity account { id } } } } }`,
      { token: writer.secret, variables: { input: input() } },
    );
    expect(ok.recordUsage.usageRecord.account.id).toBe(w.sub.id);
    const before = await prisma.usageRecord.count({ where: { accountId: dbId(w.sub.id) } });
    for (const selection of [
      "usageRecord { cost { amount } }",
      "usageRecord { account { ... on SubAccount { email } } }",
      "usageRecord { account { ... on SubAccount { balance { available { amount } } } } }",
      "usageRecord { account { ... on SubAccount { manager { subAccounts(first: 5) { totalCount } } } } }",
      "usageRecord { account { events(first: 1) { totalCount } } }",
      "balance { ledger(first: 1) { totalCount } }",
    ]) {
      await refused(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { ... on RecordUsageSuccess { ${selection} } } }`, {
        token: writer.secret,
        variables: { input: input() },
      });
    }
    // Refused documents ran nothing (no charge).
    expect(await prisma.usageRecord.count({ where: { accountId: dbId(w.sub.id) } })).toBe(before);
    // The record made is not then readable by node without ACCOUNTS_READ.
    expect(
      (await data(`query($id: ID!) { node(id: $id) { __typename } }`, { token: writer.secret, variables: { id: ok.recordUsage.usageRecord.id } })).node,
    ).toBeNull();
  });

  it("KEYS_WRITE: createApiKey's apiKey.account is an id only; the secret is for the new key, restricted", async () => {
    const keys = await restrictedKey(w.manager.token, w.manager.id, ["KEYS_WRITE"]);
    await refused(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeySuccess { apiKey { account { ... on Manager { email subAccounts(first: 1) { totalCount } } } } } } }`,
      { token: keys.secret, variables: { input: { accountId: w.manager.id, name: "x", permissions: ["KEYS_WRITE"] } } },
    );
    await refused(
      `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { ... on RevokeApiKeySuccess { apiKey { account { ... on SubAccount { email } } } } } }`,
      { token: keys.secret, variables: { input: { id: missingId("ApiKey") } } },
    );
  });

  it("BILLING_WRITE without BILLING_READ: topUpBalance's ledger entry is not in the payload", async () => {
    const writer = await restrictedKey(w.manager.token, w.manager.id, ["BILLING_WRITE"]);
    await refused(`mutation($input: TopUpBalanceInput!) { topUpBalance(input: $input) { ... on TopUpBalanceSuccess { entry { amount { amount } } } } }`, {
      token: writer.secret,
      variables: { input: { accountId: w.manager.id, amount: "1", idempotencyKey: unique("t") } },
    });
  });
});

// -------------------------------------------------------------- escalation

describe("no escalation through keys", () => {
  it("a restricted key cannot create an unrestricted key: omitted, null literal, null variable, or variable default", async () => {
    const keys = await restrictedKey(w.manager.token, w.manager.id, ["KEYS_WRITE"]);
    const before = await prisma.apiKey.count({ where: { accountId: { in: [dbId(w.manager.id), dbId(w.sub.id)] } } });
    const answers = [
      (await data(CREATE_KEY, { token: keys.secret, variables: { input: { accountId: w.manager.id, name: "x" } } })).createApiKey,
      (await data(CREATE_KEY, { token: keys.secret, variables: { input: { accountId: w.sub.id, name: "x", permissions: null } } })).createApiKey,
      (
        await data(`mutation { createApiKey(input: { accountId: "${w.manager.id}", name: "x", permissions: null }) { __typename ... on Error { code } } }`, {
          token: keys.secret,
        })
      ).createApiKey,
      (
        await data(
          `mutation($p: [ApiKeyPermission!] = null) { createApiKey(input: { accountId: "${w.manager.id}", name: "x", permissions: $p }) { __typename ... on Error { code } } }`,
          { token: keys.secret },
        )
      ).createApiKey,
      (
        await data(
          `mutation($p: [ApiKeyPermission!] = [KEYS_WRITE, ACCOUNTS_READ]) { createApiKey(input: { accountId: "${w.manager.id}", name: "x", permissions: $p }) { __typename ... on Error { code } } }`,
          { token: keys.secret },
        )
      ).createApiKey,
      (await data(CREATE_KEY, { token: keys.secret, variables: { input: { accountId: w.sub.id, name: "x", permissions: ["KEYS_WRITE", "USAGE_WRITE"] } } }))
        .createApiKey,
    ];
    expect(answers.map((a) => a.__typename)).toEqual(answers.map(() => "ForbiddenError"));
    expect(await prisma.apiKey.count({ where: { accountId: { in: [dbId(w.manager.id), dbId(w.sub.id)] } } })).toBe(before);
    // A subset (with duplicates, and []) is fine.
    const sub = await restrictedKey(keys.secret, w.sub.id, ["KEYS_WRITE", "KEYS_WRITE"]);
    expect(sub.permissions).toEqual(["KEYS_WRITE"]);
    expect((await restrictedKey(keys.secret, w.manager.id, [])).permissions).toEqual([]);
  });

  it("a restricted key cannot roll a wider key (nor an unrestricted one), and the attempt leaves that key as it was; rolling its own keeps its permissions", async () => {
    const keys = await restrictedKey(w.manager.token, w.manager.id, ["KEYS_WRITE"]);
    const wider = await restrictedKey(w.manager.token, w.manager.id, ["KEYS_WRITE", "BILLING_READ"]);
    const open = await restrictedKey(w.manager.token, w.sub.id, null);
    const ROLL = `mutation($input: RollApiKeyInput!) { rollApiKey(input: $input) { __typename ... on RollApiKeySuccess { secret apiKey { permissions } } ... on Error { code } } }`;
    for (const target of [wider, open, { id: w.manager.keyId }]) {
      const r = (await data(ROLL, { token: keys.secret, variables: { input: { id: target.id, expireCurrentInSeconds: 0 } } })).rollApiKey;
      expect(r.__typename).toBe("ForbiddenError");
      expect((await prisma.apiKey.findUnique({ where: { id: dbId(target.id) } }))?.expiresAt).toBeNull();
    }
    expect((await call(`{ viewer { role } }`, { token: open.secret })).status).toBe(200);
    const own = (await data(ROLL, { token: keys.secret, variables: { input: { id: keys.id, expireCurrentInSeconds: 60 } } })).rollApiKey;
    expect(own.__typename).toBe("RollApiKeySuccess");
    expect(own.apiKey.permissions).toEqual(["KEYS_WRITE"]);
    expect((await data(`{ viewer { apiKey { permissions } } }`, { token: own.secret })).viewer.apiKey.permissions).toEqual(["KEYS_WRITE"]);
  });

  it("a key without KEYS_WRITE has no key mutations at all", async () => {
    const reader = await restrictedKey(w.manager.token, w.manager.id, ["ACCOUNTS_READ", "BILLING_READ", "EVENTS_READ"]);
    await refused(CREATE_KEY, { token: reader.secret, variables: { input: { accountId: w.manager.id, name: "x", permissions: ["ACCOUNTS_READ"] } } });
    await refused(`mutation { rollApiKey(input: { id: "${reader.id}" }) { __typename } }`, { token: reader.secret });
    await refused(`mutation { revokeApiKey(input: { id: "${w.manager.keyId}" }) { __typename } }`, { token: reader.secret });
  });
});

// ------------------------------------------------------------ error codes

describe("how a refusal is worded", () => {
  it("a mutation the key lacks the permission for is FORBIDDEN and names the permission (when the key has other mutations)", async () => {
    const usage = await restrictedKey(w.manager.token, w.manager.id, ["USAGE_WRITE"]);
    const res = await call(CREATE_KEY, { token: usage.secret, variables: { input: { accountId: w.manager.id, name: "x" } } });
    expect(res.body.data ?? null).toBeNull();
    expect(new Set(res.body.errors?.map((e) => e.extensions?.code))).toEqual(new Set(["FORBIDDEN"]));
    expect(res.body.errors?.map((e) => e.extensions?.permission)).toContain("KEYS_WRITE");
  });

  // Found in review (contract wording, no data leaks; fixed in roleSchemas.ts missingRoots): a key whose permissions cover no
  // mutation at all (only reads, or []) has no Mutation type, and naming any
  // mutation gets graphql-js's "Schema is not configured to execute mutation
  // operation." with BAD_USER_INPUT instead of the FORBIDDEN that DOMAIN.md
  // ("Role-scoped schemas") and every other restricted key get; the same for
  // subscriptions without EVENTS_READ. useRoleSchemaErrors / hiddenFromRole
  // (src/schema/roleSchemas.ts, the MISSING_* patterns) does not recognise
  // that message.
  it("a key with no mutation at all gets FORBIDDEN for a mutation too, like a key lacking just that one", async () => {
    const reader = await restrictedKey(w.manager.token, w.manager.id, ["ACCOUNTS_READ"]);
    const res = await call(`mutation { revokeApiKey(input: { id: "${reader.id}" }) { __typename } }`, { token: reader.secret });
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    // Nothing ran: the key still works.
    expect((await call(`{ viewer { role } }`, { token: reader.secret })).status).toBe(200);
  });
});

// Found in review (hardening, not reachable by a client; fixed: the lookup COALESCEs to no permission): the key lookup reads
// `CASE WHEN k."restricted" THEN k."permissions"::text[] END`, and the
// migration leaves "permissions" nullable (0009_api_key_permissions: no NOT
// NULL), so a restricted row whose list is NULL authenticates as an
// unrestricted key (fail-open): src/auth/authenticate.ts keyLookupSql and
// `keyPermissions && new Set(...)`; prisma/migrations/0009 (NOT NULL).
describe("fail-closed storage", () => {
  it("a restricted key whose stored list is NULL gets no permission, not all of them", async () => {
    const key = await restrictedKey(w.manager.token, w.manager.id, []);
    await prisma.$executeRawUnsafe(`UPDATE "api_keys" SET "permissions" = NULL WHERE "id" = $1::uuid`, dbId(key.id));
    const res = await call(`{ viewer { account { ... on Manager { email } } } }`, { token: key.secret });
    expect(res.body.data?.viewer?.account?.email ?? null).toBeNull();
  });
});

// ---------------------------------------------------------------- act-as

describe("Act-As-Account with a restricted manager key: the sub-account's rights ∩ the key's", () => {
  it("[ACCOUNTS_READ, BILLING_READ] acting: the sub-account's schema (no cost, no pricing) and no mutations", async () => {
    const key = await restrictedKey(w.manager.token, w.manager.id, ["ACCOUNTS_READ", "BILLING_READ"]);
    const viewer = await data(`{ viewer { role actingAs account { id ... on SubAccount { email } } } }`, { token: key.secret, actAs: w.sub.id });
    expect(viewer.viewer).toMatchObject({ role: "SUB_ACCOUNT", actingAs: true, account: { id: w.sub.id, email: w.sub.email } });
    await refused(`{ viewer { account { usageRecords(first: 1) { nodes { cost { amount } } } } } }`, { token: key.secret, actAs: w.sub.id });
    await refused(`{ viewer { account { ... on SubAccount { pricing { source } } } } }`, { token: key.secret, actAs: w.sub.id });
    await refused(RECORD_USAGE, {
      token: key.secret,
      actAs: w.sub.id,
      variables: { input: { accountId: w.sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("a") } },
    });
    const intro = await data(`{ __schema { mutationType { name } } }`, { token: key.secret, actAs: w.sub.id });
    expect(intro.__schema.mutationType).toBeNull();
  });

  it("[USAGE_WRITE] acting: no account fields; [KEYS_WRITE] acting: only keys within its own permissions", async () => {
    const usage = await restrictedKey(w.manager.token, w.manager.id, ["USAGE_WRITE"]);
    await refused(`{ viewer { account { ... on SubAccount { email } } } }`, { token: usage.secret, actAs: w.sub.id });
    const keys = await restrictedKey(w.manager.token, w.manager.id, ["KEYS_WRITE"]);
    const unrestricted = (await data(CREATE_KEY, { token: keys.secret, actAs: w.sub.id, variables: { input: { accountId: w.sub.id, name: "x" } } }))
      .createApiKey;
    expect(unrestricted.__typename).toBe("ForbiddenError");
    const wider = (
      await data(CREATE_KEY, { token: keys.secret, actAs: w.sub.id, variables: { input: { accountId: w.sub.id, name: "x", permissions: ["ACCOUNTS_READ"] } } })
    ).createApiKey;
    expect(wider.__typename).toBe("ForbiddenError");
    const narrow = await restrictedKey(keys.secret, w.sub.id, ["KEYS_WRITE"], w.sub.id);
    expect(narrow.permissions).toEqual(["KEYS_WRITE"]);
  });

  it("[EVENTS_READ, BILLING_READ] acting: events read as the sub-account's (no privileged part)", async () => {
    const key = await restrictedKey(w.manager.token, w.manager.id, ["EVENTS_READ", "BILLING_READ"]);
    const d = await data(`{ viewer { account { events(first: 50) { nodes { type data } } } } }`, { token: key.secret, actAs: w.sub.id });
    expect(d.viewer.account.events.nodes.length).toBeGreaterThan(0);
    expect(keysIn(d.viewer.account.events.nodes).filter((k) => PRIVILEGED_KEYS.includes(k))).toEqual([]);
  });
});

// --------------------------------------------------------------- webhooks

describe("webhooks as a way around EVENTS_READ and BILLING_READ", () => {
  /**
   * Queues and sends the endpoint's deliveries until `hooks` got one (or 5 s
   * passed). Its own endpoint only: on a shared Postgres, other files'
   * endpoints are theirs to deliver, with their own retry settings.
   */
  async function deliverTo(hooks: Receiver, endpointId: string | undefined) {
    if (!endpointId) return;
    const deliverer = new WebhookDeliverer({ onlyEndpoints: [dbId(endpointId)] });
    deliverer.start();
    try {
      for (let i = 0; i < 50 && !hooks.received.length; i++) {
        await dispatchOnce();
        deliverer.poke();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await deliverer.stop();
    }
  }

  // Found in review (fixed: creating, changing or redelivering to an endpoint also needs EVENTS_READ):
  // a key with WEBHOOKS_WRITE but without EVENTS_READ creates a webhook
  // endpoint on its manager account and receives the whole tree's events by
  // POST (and can push older ones with redeliverWebhookEvent): events reach a
  // key whose schema has no Event at all. Deliveries are rendered for the
  // endpoint's account (src/webhooks/delivery.ts deliveryBody / QUEUE:
  // `readerKind`), and the endpoint keeps nothing of the key that made it
  // (src/services/webhooks.ts createWebhookEndpoint; ACTIONS
  // "webhookEndpoint:create" needs only WEBHOOKS_WRITE in src/auth/actions.ts).
  it("a WEBHOOKS_WRITE-only key cannot obtain events through an endpoint it creates", async () => {
    const hooks = await startReceiver();
    receivers.push(hooks);
    const key = await restrictedKey(w.manager.token, w.manager.id, ["WEBHOOKS_WRITE"]);
    await refused(`{ viewer { account { events(first: 1) { totalCount } } } }`, { token: key.secret });
    const created = await call(
      `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename ... on CreateWebhookEndpointSuccess { endpoint { id } } } }`,
      { token: key.secret, variables: { input: { accountId: w.manager.id, url: hooks.url, eventTypes: ["USAGE_RECORDED"] } } },
    );
    await charge(w.manager.token, w.sub.id);
    await deliverTo(hooks, created.body.data?.createWebhookEndpoint?.endpoint?.id);
    // Either the endpoint is refused, or it receives no event the key may not read.
    const accepted = created.body.data?.createWebhookEndpoint?.__typename === "CreateWebhookEndpointSuccess";
    expect(accepted ? hooks.received.map((h) => JSON.parse(h.body).type) : []).toEqual([]);
  });

  // Found in review (fixed: the endpoint keeps includesBillingData from the key that made it):
  // the same with EVENTS_READ but without BILLING_READ: Account.events
  // and the subscription drop the privileged part for this key, but its
  // endpoint's deliveries carry it (unit price, cost, usage record id): the
  // body is eventPayloadFor(readerRole) with no withBilling argument
  // (src/webhooks/delivery.ts deliveryBody, ~line 147).
  it("an endpoint made by a key without BILLING_READ receives no privileged event data", async () => {
    const hooks = await startReceiver();
    receivers.push(hooks);
    const key = await restrictedKey(w.manager.token, w.manager.id, ["WEBHOOKS_WRITE", "EVENTS_READ"]);
    const r = await data(
      `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename ... on CreateWebhookEndpointSuccess { endpoint { id } } } }`,
      { token: key.secret, variables: { input: { accountId: w.manager.id, url: hooks.url, eventTypes: ["USAGE_RECORDED"] } } },
    );
    expect(r.createWebhookEndpoint.__typename).toBe("CreateWebhookEndpointSuccess");
    await charge(w.manager.token, w.sub.id);
    await deliverTo(hooks, r.createWebhookEndpoint.endpoint.id);
    expect(hooks.received.length).toBeGreaterThan(0);
    // What the key itself reads of the same events through the API: no privileged part.
    const own = await data(`{ viewer { account { events(first: 5, types: [USAGE_RECORDED]) { nodes { data } } } } }`, { token: key.secret });
    expect(keysIn(own.viewer.account.events.nodes).filter((k) => PRIVILEGED_KEYS.includes(k))).toEqual([]);
    const delivered = hooks.received.map((h) => JSON.parse(h.body).data);
    expect(keysIn(delivered).filter((k) => PRIVILEGED_KEYS.includes(k))).toEqual([]);
  });

  it("WEBHOOKS_WRITE without EVENTS_READ: a delivery's event is not in the schema, and node on an event is null", async () => {
    const key = await restrictedKey(w.manager.token, w.manager.id, ["WEBHOOKS_WRITE"]);
    await refused(`query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries(first: 1) { nodes { event { data } } } } } }`, {
      token: key.secret,
      variables: { id: endpointId },
    });
    expect((await data(`query($id: ID!) { node(id: $id) { __typename } }`, { token: key.secret, variables: { id: eventId } })).node).toBeNull();
    expect((await data(`query($id: ID!) { node(id: $id) { __typename } }`, { token: key.secret, variables: { id: endpointId } })).node).toEqual({
      __typename: "WebhookEndpoint",
    });
  });
});
