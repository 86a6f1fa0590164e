// Independent review of the new code paths (event log, Subscription.events,
// webhooks, usage triggers, expiring/rolled keys, Act-As-Account), written as
// a hostile client would probe them. Each passing test pins a rule that holds
// (a regression test); each failing test is a defect described in its name.
//
// Network: only 127.0.0.1 receivers started here. SSRF probes either never
// connect (checkWebhookUrl) or aim at loopback with the development setting
// off, so a broken guard would show up as a connection to our own receiver.
import dns from "node:dns";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { prisma } from "../../src/db/client.js";
import { dispatchOnce, WebhookDeliverer } from "../../src/webhooks/delivery.js";
import { checkWebhookUrl, deliver } from "../../src/webhooks/outbound.js";
import { app, errorCodes, type GqlResponse, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createApiKey, createSubAccount, createWorld, setAccountPricing, topUp, unique, type World } from "../helpers/factories.js";
import { dbId } from "../helpers/ids.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

// ------------------------------------------------------------------ helpers

/**
 * What a plain-string document's response is read as: these probes build
 * documents at run time (forms, relabelled ids), so their shapes are stated
 * by the query beside each read rather than by gql.tada.
 */
// biome-ignore lint/suspicious/noExplicitAny: run-time documents, see above
type Loose = any;

/** One GraphQL request as `token` (acting as `actAs` when given), through the real HTTP layer. */
const call = <T = Loose>(query: string, options: { token: string; variables?: object; actAs?: string }): Promise<GqlResponse<T>> =>
  gql<T, object>(query, options);
/** Like call, but fails the test on any error; returns `data`. */
const data = <T = Loose>(query: string, options: { token: string; variables?: object; actAs?: string }): Promise<T> => gqlData<T, object>(query, options);

const RECORD_USAGE = `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename ... on Error { code message } } }`;
const charge = (token: string, accountId: string, options: { quantity?: number; actAs?: string } = {}) =>
  data(RECORD_USAGE, {
    token,
    actAs: options.actAs,
    variables: { input: { accountId, product: "SMS_OUTBOUND", quantity: options.quantity ?? 1, idempotencyKey: unique("rv") } },
  }).then((d) => d.recordUsage);

const EVENTS = `query($id: ID!, $types: [EventType!], $after: String) { node(id: $id) { ... on Account {
  events(first: 100, types: $types, after: $after) { totalCount edges { cursor } nodes { id type data account { id } } } } } }`;
type EventNode = { id: string; type: string; data: Record<string, Loose>; account: { id: string } | null };
async function eventsOf(
  token: string,
  accountId: string,
  types?: string[],
  actAs?: string,
): Promise<{ totalCount: number; nodes: EventNode[]; edges: { cursor: string }[] }> {
  const d = await data(EVENTS, { token, actAs, variables: { id: accountId, types } });
  if (!d.node?.events) throw new Error(`account ${accountId} out of reach`);
  return d.node.events;
}

const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  __typename ... on CreateWebhookEndpointSuccess { signingSecret endpoint { id } } ... on Error { code message } } }`;
const UPDATE_ENDPOINT = `mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) {
  __typename ... on UpdateWebhookEndpointSuccess { endpoint { id url enabled } } ... on Error { code message } } }`;
const DELETE_ENDPOINT = `mutation($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { __typename ... on Error { code message } } }`;
const REDELIVER = `mutation($input: RedeliverWebhookEventInput!) { redeliverWebhookEvent(input: $input) {
  __typename ... on RedeliverWebhookEventSuccess { delivery { id event { id } } } ... on Error { code message } } }`;
const CREATE_TRIGGER = `mutation($input: CreateUsageTriggerInput!) { createUsageTrigger(input: $input) {
  __typename ... on CreateUsageTriggerSuccess { trigger { id } } ... on Error { code message } } }`;
const DELETE_TRIGGER = `mutation($id: ID!) { deleteUsageTrigger(input: { id: $id }) { __typename ... on Error { code message } } }`;
const NODE = `query($id: ID!) { node(id: $id) { __typename id } }`;
const NODES = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`;

async function createEndpoint(token: string, accountId: string, url: string, eventTypes?: string[], actAs?: string) {
  const r = (await data(CREATE_ENDPOINT, { token, actAs, variables: { input: { accountId, url, eventTypes } } })).createWebhookEndpoint;
  if (r.__typename !== "CreateWebhookEndpointSuccess") throw new Error(JSON.stringify(r));
  return r.endpoint.id as string;
}

/** A well-formed global id of `typename` that names no row. */
const missingId = (typename: string) => Buffer.from(`${typename}:00000000-0000-4000-8000-000000000000`).toString("base64");

function keysIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysIn);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...keysIn(v)]);
  return [];
}
/** What a sub-account must never find in an event's data. */
const PRIVILEGED_KEYS = ["unitPrice", "cost", "rates", "ledgerEntryId", "counterparty", "from", "charge", "usageRecordId"];

/**
 * The id of the newest event of `type` about the account itself (read as the operator). A manager's list also holds its
 * sub-accounts' events, so the newest of a type there may be about one of them.
 */
async function newestEventId(accountId: string, type: string): Promise<string> {
  const { nodes } = await eventsOf(OPERATOR_TOKEN, accountId, [type]);
  const own = nodes.find((event) => event.account?.id === accountId);
  if (!own) throw new Error(`no ${type} event on ${accountId}`);
  return own.id;
}

let w: World;
const saved = { insecure: process.env.WEBHOOK_ALLOW_INSECURE, delays: process.env.WEBHOOK_RETRY_DELAYS_MS };
const receivers: Receiver[] = [];

beforeAll(async () => {
  process.env.WEBHOOK_ALLOW_INSECURE = "true";
  process.env.WEBHOOK_RETRY_DELAYS_MS = "200,200,200";
  w = await createWorld();
  await setAccountPricing(w.manager.id, { SMS_OUTBOUND: "0.01" });
  await setAccountPricing(w.otherManager.id, { SMS_OUTBOUND: "0.01" });
  await topUp(w.manager.id, "50");
  await Promise.all([topUp(w.sub.id, "10", w.manager.token), topUp(w.sibling.id, "10", w.manager.token), topUp(w.otherSub.id, "10", w.otherManager.token)]);
  await Promise.all([charge(w.sub.token, w.sub.id), charge(w.sibling.token, w.sibling.id), charge(w.otherSub.token, w.otherSub.id)]);
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  for (const [name, value] of [
    ["WEBHOOK_ALLOW_INSECURE", saved.insecure],
    ["WEBHOOK_RETRY_DELAYS_MS", saved.delays],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

// ------------------------------------------------------------ event rows

describe("events under the row rules", () => {
  it("node/nodes: a sibling's, another tree's and a made-up event are all null for a sub-account; the manager reaches its tree only", async () => {
    const siblingEvent = await newestEventId(w.sibling.id, "USAGE_RECORDED");
    const foreignEvent = await newestEventId(w.otherSub.id, "USAGE_RECORDED");
    const ownEvent = await newestEventId(w.sub.id, "USAGE_RECORDED");
    const asSub = await data(NODES, { token: w.sub.token, variables: { ids: [ownEvent, siblingEvent, foreignEvent, missingId("Event")] } });
    expect(asSub.nodes.map((n: Loose) => n?.id ?? null)).toEqual([ownEvent, null, null, null]);
    const asManager = await data(NODES, { token: w.manager.token, variables: { ids: [ownEvent, siblingEvent, foreignEvent] } });
    expect(asManager.nodes.map((n: Loose) => n?.id ?? null)).toEqual([ownEvent, siblingEvent, null]);
    // An event id relabelled as another type names nothing.
    const relabelled = Buffer.from(`WebhookDelivery:${dbId(ownEvent)}`).toString("base64");
    expect((await data(NODE, { token: w.sub.token, variables: { id: relabelled } })).node).toBeNull();
  });

  it("Account.events: a sub-account cannot page its own list with a sibling's cursor (same BAD_USER_INPUT as garbage), nor open a sibling's list", async () => {
    const sibling = await eventsOf(w.manager.token, w.sibling.id);
    const foreignCursor = sibling.edges[0]!.cursor;
    const withForeign = await call(EVENTS, { token: w.sub.token, variables: { id: w.sub.id, after: foreignCursor } });
    const withGarbage = await call(EVENTS, { token: w.sub.token, variables: { id: w.sub.id, after: Buffer.from("GPC:S:nonsense").toString("base64") } });
    expect(errorCodes(withForeign)).toEqual(["BAD_USER_INPUT"]);
    expect(errorCodes(withGarbage)).toEqual(["BAD_USER_INPUT"]);
    expect(withForeign.body.errors![0]!.message.replace(/`[^`]*`/g, "")).toBe(withGarbage.body.errors![0]!.message.replace(/`[^`]*`/g, ""));
    expect((await data(EVENTS, { token: w.sub.token, variables: { id: w.sibling.id } })).node).toBeNull();
  });

  it("Account.events totalCount with a `types` filter counts only the sub-account's own events", async () => {
    const own = await eventsOf(w.sub.token, w.sub.id, ["USAGE_RECORDED"]);
    const truth = await prisma.event.count({ where: { accountId: dbId(w.sub.id), type: "USAGE_RECORDED" } });
    expect(own.totalCount).toBe(truth);
    expect(own.nodes.every((n) => n.account?.id === w.sub.id)).toBe(true);
  });

  it("every event a sub-account reads carries no price, cost, ledger entry, counterparty, or its manager's key prefix", async () => {
    // Changes by the manager on the sub, each with a privileged part.
    const number = await data(
      `mutation($input: ProvisionPhoneNumberInput!) { provisionPhoneNumber(input: $input) { __typename ... on ProvisionPhoneNumberSuccess { phoneNumber { id } } ... on Error { code message } } }`,
      {
        token: w.manager.token,
        variables: { input: { accountId: w.sibling.id, number: `+1${Date.now().toString().slice(-10)}${Math.floor(Math.random() * 9000 + 1000)}` } },
      },
    );
    expect(number.provisionPhoneNumber.__typename).toBe("ProvisionPhoneNumberSuccess");
    const moved = await data(
      `mutation($input: TransferPhoneNumberInput!) { transferPhoneNumber(input: $input) { __typename ... on Error { code message } } }`,
      {
        token: w.manager.token,
        variables: { input: { id: number.provisionPhoneNumber.phoneNumber.id, toAccountId: w.sub.id } },
      },
    );
    expect(moved.transferPhoneNumber.__typename).toBe("TransferPhoneNumberSuccess");
    const transfer = await data(`mutation($input: TransferBalanceInput!) { transferBalance(input: $input) { __typename ... on Error { code message } } }`, {
      token: w.manager.token,
      variables: { input: { fromAccountId: w.sibling.id, toAccountId: w.sub.id, amount: "1", idempotencyKey: unique("t") } },
    });
    expect(transfer.transferBalance.__typename).toBe("TransferBalanceSuccess");
    await charge(w.manager.token, w.sub.id);
    const { nodes } = await eventsOf(w.sub.token, w.sub.id);
    expect(nodes.length).toBeGreaterThan(4);
    const managerPrefix = (await prisma.apiKey.findMany({ where: { accountId: dbId(w.manager.id) } })).map((k) => k.prefix);
    const siblingIds = [w.sibling.id, dbId(w.sibling.id)];
    for (const node of nodes) {
      expect(
        keysIn(node.data).filter((k) => PRIVILEGED_KEYS.includes(k)),
        `${node.type}: ${JSON.stringify(node.data)}`,
      ).toEqual([]);
      const text = JSON.stringify(node.data);
      for (const prefix of managerPrefix) expect(text, node.type).not.toContain(prefix);
      for (const id of siblingIds) expect(text, node.type).not.toContain(id);
    }
    // The manager sees the privileged parts of the same events.
    const asManager = await eventsOf(w.manager.token, w.sub.id, ["BALANCE_TRANSFERRED", "PHONE_NUMBER_TRANSFERRED", "USAGE_RECORDED"]);
    expect(asManager.nodes.some((n) => n.data.counterparty === w.sibling.id)).toBe(true);
    expect(asManager.nodes.some((n) => n.data.from === w.sibling.id)).toBe(true);
    expect(asManager.nodes.some((n) => n.data.unitPrice && n.data.cost)).toBe(true);
  });
});

// ------------------------------------------------------------- webhooks

describe("webhook endpoints and deliveries under the row rules", () => {
  let subEndpoint: string;
  let siblingEndpoint: string;
  beforeAll(async () => {
    const r = await startReceiver();
    receivers.push(r);
    subEndpoint = await createEndpoint(w.sub.token, w.sub.id, r.url);
    siblingEndpoint = await createEndpoint(w.sibling.token, w.sibling.id, r.url);
  });

  it("createWebhookEndpoint on a sibling, another tree, or the manager: NotFoundError exactly like a made-up account", async () => {
    const answers = [];
    for (const accountId of [w.sibling.id, w.otherSub.id, missingId("SubAccount")]) {
      answers.push(
        (await data(CREATE_ENDPOINT, { token: w.sub.token, variables: { input: { accountId, url: "http://127.0.0.1:9/x" } } })).createWebhookEndpoint,
      );
    }
    expect(answers.map((a) => a.__typename)).toEqual(["NotFoundError", "NotFoundError", "NotFoundError"]);
    expect(new Set(answers.map((a) => a.message)).size).toBe(1);
    const onManager = (await data(CREATE_ENDPOINT, { token: w.sub.token, variables: { input: { accountId: w.manager.id, url: "http://127.0.0.1:9/x" } } }))
      .createWebhookEndpoint;
    expect(onManager).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND", message: answers[0].message.replace("sub-account", "manager") });
  });

  it("update/delete of a sibling's endpoint, node on it, and its deliveries: NotFound / null, like a made-up id", async () => {
    const upd = (id: string) =>
      data(UPDATE_ENDPOINT, { token: w.sub.token, variables: { input: { id, enabled: false } } }).then((d) => d.updateWebhookEndpoint);
    const del = (id: string) => data(DELETE_ENDPOINT, { token: w.sub.token, variables: { id } }).then((d) => d.deleteWebhookEndpoint);
    expect(await upd(siblingEndpoint)).toEqual(await upd(missingId("WebhookEndpoint")));
    expect((await upd(siblingEndpoint)).__typename).toBe("NotFoundError");
    expect(await del(siblingEndpoint)).toEqual(await del(missingId("WebhookEndpoint")));
    expect((await data(NODE, { token: w.sub.token, variables: { id: siblingEndpoint } })).node).toBeNull();
    // Still there, still enabled.
    expect((await prisma.webhookEndpoint.findUnique({ where: { id: dbId(siblingEndpoint) } }))?.enabled).toBe(true);
  });

  it("redeliverWebhookEvent: a sibling's or another tree's event to one's own endpoint is NotFoundError like a made-up event, and nothing is queued", async () => {
    const before = await prisma.webhookDelivery.count({ where: { endpointId: dbId(subEndpoint) } });
    const answer = async (eventId: string) =>
      (await data(REDELIVER, { token: w.sub.token, variables: { input: { endpointId: subEndpoint, eventId } } })).redeliverWebhookEvent;
    const sibling = await answer(await newestEventId(w.sibling.id, "USAGE_RECORDED"));
    const foreign = await answer(await newestEventId(w.otherSub.id, "USAGE_RECORDED"));
    const manager = await answer(await newestEventId(w.manager.id, "BALANCE_TOPPED_UP"));
    const missing = await answer(missingId("Event"));
    expect([sibling, foreign, manager]).toEqual([missing, missing, missing]);
    expect(missing.__typename).toBe("NotFoundError");
    // A manager cannot push a sibling's event into a sub-account's endpoint either (the endpoint's account may not see it).
    const viaManager = (
      await data(REDELIVER, {
        token: w.manager.token,
        variables: { input: { endpointId: subEndpoint, eventId: await newestEventId(w.sibling.id, "USAGE_RECORDED") } },
      })
    ).redeliverWebhookEvent;
    expect(viaManager.__typename).toBe("NotFoundError");
    expect(await prisma.webhookDelivery.count({ where: { endpointId: dbId(subEndpoint) } })).toBe(before);
  });

  it("a sibling's delivery is null through node, and a foreign cursor on deliveries is BAD_USER_INPUT", async () => {
    await charge(w.sibling.token, w.sibling.id);
    await dispatchOnce();
    const delivery = await prisma.webhookDelivery.findFirst({ where: { endpointId: dbId(siblingEndpoint) } });
    expect(delivery).not.toBeNull();
    const deliveryId = Buffer.from(`WebhookDelivery:${delivery!.id}`).toString("base64");
    expect((await data(NODE, { token: w.sub.token, variables: { id: deliveryId } })).node).toBeNull();
    expect((await data(NODE, { token: w.manager.token, variables: { id: deliveryId } })).node?.id).toBe(deliveryId);
    const page = await data(`query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries(first: 5) { edges { cursor } } } } }`, {
      token: w.manager.token,
      variables: { id: siblingEndpoint },
    });
    const cursor = page.node.deliveries.edges[0].cursor;
    const res = await call(
      `query($id: ID!, $after: String) { node(id: $id) { ... on WebhookEndpoint { deliveries(first: 5, after: $after) { totalCount } } } }`,
      {
        token: w.sub.token,
        variables: { id: subEndpoint, after: cursor },
      },
    );
    expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("webhook bodies", () => {
  it("a sub-account's endpoint receives only its own events, without privileged data; the manager's endpoint receives the tree with it", async () => {
    const world = await createWorld();
    await setAccountPricing(world.manager.id, { SMS_OUTBOUND: "0.01" });
    await Promise.all([topUp(world.sub.id, "5", world.manager.token), topUp(world.sibling.id, "5", world.manager.token)]);
    const subHooks = await startReceiver();
    const managerHooks = await startReceiver();
    receivers.push(subHooks, managerHooks);
    const endpoints = [
      await createEndpoint(world.sub.token, world.sub.id, subHooks.url, ["USAGE_RECORDED", "BALANCE_TRANSFERRED"]),
      await createEndpoint(world.manager.token, world.manager.id, managerHooks.url, ["USAGE_RECORDED", "BALANCE_TRANSFERRED"]),
    ];
    // Its own endpoints only: on a shared Postgres, other files' endpoints are theirs to deliver.
    const deliverer = new WebhookDeliverer({ onlyEndpoints: endpoints.map(dbId) });
    deliverer.start();
    await charge(world.sub.token, world.sub.id);
    await charge(world.sibling.token, world.sibling.id);
    await charge(world.manager.token, world.sub.id);
    await data(`mutation($input: TransferBalanceInput!) { transferBalance(input: $input) { __typename } }`, {
      token: world.manager.token,
      variables: { input: { fromAccountId: world.sibling.id, toAccountId: world.sub.id, amount: "1", idempotencyKey: unique("t") } },
    });
    deliverer.poke();
    // sub: its two charges and its side of the transfer. manager: 3 charges + 2 transfer sides.
    await managerHooks.waitFor(5);
    await subHooks.waitFor(3);
    await new Promise((r) => setTimeout(r, 300));
    const subBodies = subHooks.received.map((h) => JSON.parse(h.body));
    expect(subBodies).toHaveLength(3);
    for (const body of subBodies) {
      expect(body.account.id).toBe(world.sub.id);
      expect(
        keysIn(body.data).filter((k) => PRIVILEGED_KEYS.includes(k)),
        JSON.stringify(body),
      ).toEqual([]);
      expect(JSON.stringify(body)).not.toContain(world.sibling.id);
      // The manager's key prefix is not in a sub-account's body.
      if (body.data.actor?.role === "MANAGER") expect(body.data.actor.apiKeyPrefix).toBeNull();
    }
    const managerBodies = managerHooks.received.map((h) => JSON.parse(h.body));
    expect(managerBodies).toHaveLength(5);
    expect(managerBodies.filter((b) => b.type === "USAGE_RECORDED").every((b) => b.data.unitPrice && b.data.cost)).toBe(true);
    expect(managerBodies.some((b) => b.data.counterparty === world.sibling.id)).toBe(true);
    await deliverer.stop();
  });
});

// ------------------------------------------------------------- triggers

describe("usage triggers under the row rules", () => {
  it("create/delete on a sibling or another tree: NotFoundError like a made-up id; node of a sibling's trigger is null", async () => {
    const siblingTrigger = (
      await data(CREATE_TRIGGER, {
        token: w.manager.token,
        variables: { input: { accountId: w.sibling.id, condition: "SPEND_REACHES", threshold: "100", action: "SUSPEND" } },
      })
    ).createUsageTrigger;
    expect(siblingTrigger.__typename).toBe("CreateUsageTriggerSuccess");
    const id = siblingTrigger.trigger.id;
    const del = (tid: string) => data(DELETE_TRIGGER, { token: w.sub.token, variables: { id: tid } }).then((d) => d.deleteUsageTrigger);
    expect(await del(id)).toEqual(await del(missingId("UsageTrigger")));
    expect((await del(id)).__typename).toBe("NotFoundError");
    expect((await data(NODE, { token: w.sub.token, variables: { id } })).node).toBeNull();
    const create = (accountId: string) =>
      data(CREATE_TRIGGER, { token: w.sub.token, variables: { input: { accountId, condition: "SPEND_REACHES", threshold: "1" } } }).then(
        (d) => d.createUsageTrigger,
      );
    const [a, b, c] = [await create(w.sibling.id), await create(w.otherSub.id), await create(missingId("SubAccount"))];
    expect(a).toEqual(c);
    expect(b).toEqual(c);
    expect(c.__typename).toBe("NotFoundError");
    expect(await prisma.usageTrigger.count({ where: { id: dbId(id) } })).toBe(1);
  });

  it("a sub-account may not create a SUSPEND trigger on itself, nor delete its manager's SUSPEND trigger", async () => {
    const mine = (
      await data(CREATE_TRIGGER, {
        token: w.sub.token,
        variables: { input: { accountId: w.sub.id, condition: "SPEND_REACHES", threshold: "1", action: "SUSPEND" } },
      })
    ).createUsageTrigger;
    expect(mine.__typename).toBe("ForbiddenError");
    const managers = (
      await data(CREATE_TRIGGER, {
        token: w.manager.token,
        variables: { input: { accountId: w.sub.id, condition: "SPEND_REACHES", threshold: "999", action: "SUSPEND" } },
      })
    ).createUsageTrigger;
    const del = (await data(DELETE_TRIGGER, { token: w.sub.token, variables: { id: managers.trigger.id } })).deleteUsageTrigger;
    expect(del.__typename).toBe("ForbiddenError");
  });
});

// ------------------------------------------------------------ Act-As-Account

const VIEWER = `{ viewer { role actingAs account { id } } }`;

describe("Act-As-Account", () => {
  it("is the same 401 as a bad key for: a sub-account key, another tree's sub-account, a Manager id, a malformed or relabelled id, a closed sub-account", async () => {
    const bad = await call(VIEWER, { token: "ak_not_a_real_key_000000000000000000000000" });
    expect(bad.status).toBe(401);
    const closed = await createSubAccount(w.manager);
    await data(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`, { token: w.manager.token, variables: { id: closed.id } });
    const probes: [string, string][] = [
      [w.sub.token, w.sub.id],
      [w.sub.token, w.sibling.id],
      [w.manager.token, w.otherSub.id],
      [w.manager.token, w.manager.id],
      [w.manager.token, Buffer.from(`SubAccount:${dbId(w.manager.id)}`).toString("base64")],
      [w.manager.token, Buffer.from("SubAccount:not-a-uuid").toString("base64")],
      [w.manager.token, Buffer.from(`Manager:${dbId(w.sub.id)}`).toString("base64")],
      [w.manager.token, "' OR 1=1 --"],
      [w.manager.token, missingId("SubAccount")],
      [w.manager.token, closed.id],
    ];
    for (const [token, actAs] of probes) {
      const res = await call(VIEWER, { token, actAs });
      expect({ actAs, status: res.status, body: res.body }).toEqual({ actAs, status: 401, body: bad.body });
    }
  });

  it("gives exactly the sub-account's schema and rows: no pricing fields, no sibling, no manager", async () => {
    const me = await data(VIEWER, { token: w.manager.token, actAs: w.sub.id });
    expect(me.viewer).toEqual({ role: "SUB_ACCOUNT", actingAs: true, account: { id: w.sub.id } });
    const pricing = await call(`query($id: ID!) { node(id: $id) { ... on SubAccount { pricing { __typename } } } }`, {
      token: w.manager.token,
      actAs: w.sub.id,
      variables: { id: w.sub.id },
    });
    expect(pricing.body.data).toBeUndefined();
    expect(pricing.body.errors?.length).toBeGreaterThan(0);
    const reach = await data(NODES, { token: w.manager.token, actAs: w.sub.id, variables: { ids: [w.sub.id, w.sibling.id, w.manager.id] } });
    expect(reach.nodes.map((n: Loose) => n?.id ?? null)).toEqual([w.sub.id, null, null]);
    const events = await eventsOf(w.manager.token, w.sub.id, undefined, w.sub.id);
    for (const node of events.nodes)
      expect(
        keysIn(node.data).filter((k) => PRIVILEGED_KEYS.includes(k)),
        node.type,
      ).toEqual([]);
  });

  it("records every write as the manager's key (actorRole MANAGER, its prefix, viaActAs) in audit_events and events: recordUsage, recordAudit changes, trigger firings with SUSPEND, redeliveries, credit-limit refusals", async () => {
    const world = await createWorld();
    await setAccountPricing(world.manager.id, { SMS_OUTBOUND: "0.01" });
    await topUp(world.sub.id, "5", world.manager.token);
    const managerKey = await prisma.apiKey.findFirstOrThrow({ where: { accountId: dbId(world.manager.id) } });
    const asSub = { token: world.manager.token, actAs: world.sub.id };
    // A SUSPEND trigger (set by the manager itself), then charges made acting as the sub-account cross it.
    const trigger = (
      await data(CREATE_TRIGGER, {
        token: world.manager.token,
        variables: { input: { accountId: world.sub.id, condition: "SPEND_REACHES", threshold: "0.02", action: "SUSPEND" } },
      })
    ).createUsageTrigger;
    expect(trigger.__typename).toBe("CreateUsageTriggerSuccess");
    const limited = await createSubAccount(world.manager, { creditLimit: "0.005" });
    await topUp(limited.id, "1", world.manager.token);
    const startedAt = new Date();
    expect((await charge(asSub.token, world.sub.id, { actAs: asSub.actAs })).__typename).toBe("RecordUsageSuccess");
    expect((await charge(asSub.token, world.sub.id, { actAs: asSub.actAs })).__typename).toBe("RecordUsageSuccess");
    // An endpoint and a redelivery, acting as the sub-account.
    const r = await startReceiver();
    receivers.push(r);
    const endpoint = await createEndpoint(asSub.token, world.sub.id, r.url, undefined, asSub.actAs);
    const usageEvent = await newestEventId(world.sub.id, "USAGE_RECORDED");
    const redelivered = (await data(REDELIVER, { ...asSub, variables: { input: { endpointId: endpoint, eventId: usageEvent } } })).redeliverWebhookEvent;
    expect(redelivered.__typename).toBe("RedeliverWebhookEventSuccess");
    // A credit-limit refusal, acting as another sub-account of the tree.
    expect((await charge(world.manager.token, limited.id, { actAs: limited.id })).__typename).toBe("CreditLimitExceededError");

    const audits = await prisma.auditEvent.findMany({ where: { accountId: { in: [dbId(world.sub.id), dbId(limited.id)] }, occurredAt: { gte: startedAt } } });
    const events = await prisma.event.findMany({ where: { accountId: { in: [dbId(world.sub.id), dbId(limited.id)] }, occurredAt: { gte: startedAt } } });
    expect(audits.map((a) => a.action).sort()).toEqual(
      ["subAccount.suspend", "usage.record", "usage.record", "webhookEndpoint.create", "webhookEvent.redeliver"].sort(),
    );
    expect(events.map((e) => e.type).sort()).toEqual(
      ["CREDIT_LIMIT_REACHED", "SUB_ACCOUNT_SUSPENDED", "USAGE_RECORDED", "USAGE_RECORDED", "USAGE_TRIGGER_FIRED", "WEBHOOK_ENDPOINT_CREATED"].sort(),
    );
    for (const row of [...audits, ...events]) {
      expect({ row: "action" in row ? row.action : row.type, actorRole: row.actorRole, prefix: row.actorApiKeyPrefix, viaActAs: row.viaActAs }).toEqual({
        row: "action" in row ? row.action : row.type,
        actorRole: "MANAGER",
        prefix: managerKey.prefix,
        viaActAs: true,
      });
    }
    // Read by the sub-account itself: the manager did it (via act-as), its prefix withheld.
    const own = await eventsOf(world.sub.token, world.sub.id, ["USAGE_RECORDED"]);
    expect(own.nodes[0]!.data.actor).toEqual({ role: "MANAGER", apiKeyPrefix: null, viaActAs: true });
  });

  it("idempotency keys of a manager acting as its sub-account are the manager's: the sub-account cannot pre-claim (and block) them", async () => {
    const world = await createWorld();
    await setAccountPricing(world.manager.id, { SMS_OUTBOUND: "0.01" });
    await topUp(world.sub.id, "5", world.manager.token);
    const key = unique("billing-run");
    const input = (quantity: number) => ({ input: { accountId: world.sub.id, product: "SMS_OUTBOUND", quantity, idempotencyKey: key } });
    // The sub-account guesses the key its manager's billing job will use, and takes it first with a different payload.
    expect((await data(RECORD_USAGE, { token: world.sub.token, variables: input(1) })).recordUsage.__typename).toBe("RecordUsageSuccess");
    // DOMAIN.md: keys are scoped to the caller (the authenticated account: here the manager's key), and a
    // sub-account's keys never collide with its manager's. The manager's charge must go through.
    const managers = (await data(RECORD_USAGE, { token: world.manager.token, actAs: world.sub.id, variables: input(400) })).recordUsage;
    expect(managers.__typename).toBe("RecordUsageSuccess");
  });
});

// ------------------------------------------------------------ keys

describe("expiring and rolled keys", () => {
  it("an expired key is the same 401 as an unknown one on /graphql, with Act-As-Account, and on the CSV export", async () => {
    const world = await createWorld();
    const subKey = await createApiKey(world.manager.token, world.sub.id, "soon");
    const managerKey = await createApiKey(world.manager.token, world.manager.id, "soon");
    expect((await call(VIEWER, { token: subKey.secret })).status).toBe(200);
    await prisma.apiKey.updateMany({ where: { id: { in: [dbId(subKey.id), dbId(managerKey.id)] } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const unknown = await call(VIEWER, { token: "ak_not_a_real_key_000000000000000000000000" });
    for (const [token, actAs] of [
      [subKey.secret, undefined],
      [managerKey.secret, undefined],
      [managerKey.secret, world.sub.id],
    ] as const) {
      const res = await call(VIEWER, { token, actAs });
      expect({ status: res.status, body: res.body }).toEqual({ status: unknown.status, body: unknown.body });
    }
    const csv = await app.fetch("http://gateway.test/reports/usage.csv", { headers: { authorization: `Bearer ${subKey.secret}` } });
    expect(csv.status).toBe(401);
    const csvActing = await app.fetch("http://gateway.test/reports/usage.csv", {
      headers: { authorization: `Bearer ${managerKey.secret}`, "act-as-account": world.sub.id },
    });
    expect(csvActing.status).toBe(401);
  });

  it("rollApiKey with expireCurrentInSeconds 0: the old secret is refused at once, the new one works; an expiring key cannot roll or create a key that outlives it", async () => {
    const world = await createWorld();
    const key = await createApiKey(world.manager.token, world.sub.id, "rolled");
    const rolled = await data(
      `mutation($input: RollApiKeyInput!) { rollApiKey(input: $input) { __typename ... on RollApiKeySuccess { secret previous { expiresAt } } ... on Error { code message } } }`,
      {
        token: world.sub.token,
        variables: { input: { id: key.id, expireCurrentInSeconds: 0 } },
      },
    );
    expect(rolled.rollApiKey.__typename).toBe("RollApiKeySuccess");
    expect((await call(VIEWER, { token: key.secret })).status).toBe(401);
    expect((await call(VIEWER, { token: rolled.rollApiKey.secret })).status).toBe(200);

    const expiring = await data(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreateApiKeySuccess { secret } ... on Error { code } } }`,
      {
        token: world.manager.token,
        variables: { input: { accountId: world.sub.id, name: "short", expiresAt: new Date(Date.now() + 3_600_000).toISOString() } },
      },
    );
    const shortToken = expiring.createApiKey.secret;
    const forever = await data(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on Error { code } } }`, {
      token: shortToken,
      variables: { input: { accountId: world.sub.id, name: "forever" } },
    });
    expect(forever.createApiKey.__typename).toBe("ForbiddenError");
    const rollForever = await data(`mutation($input: RollApiKeyInput!) { rollApiKey(input: $input) { __typename ... on Error { code } } }`, {
      token: shortToken,
      variables: { input: { id: key.id, expireCurrentInSeconds: 0 } },
    });
    // `key` is expired now: ValidationError; a non-expiring key: ForbiddenError. Either way nothing is created.
    expect(["ValidationError", "ForbiddenError"]).toContain(rollForever.rollApiKey.__typename);
  });
});

// ------------------------------------------------------------ SSE

describe("Subscription.events", () => {
  const SUB = `subscription($after: String, $types: [EventType!]) { events(after: $after, types: $types) { id type account { id } data } }`;

  it("`after` naming a sibling's or another tree's event is the same BAD_USER_INPUT as a made-up id", async () => {
    const { subscribe } = await import("../helpers/sse.js");
    const { parse } = await import("graphql");
    const answers: string[] = [];
    for (const after of [await newestEventId(w.sibling.id, "USAGE_RECORDED"), await newestEventId(w.otherSub.id, "USAGE_RECORDED"), missingId("Event")]) {
      const s = subscribe(parse(SUB) as never, { after } as never, w.sub.token);
      await Promise.race([s.waitFor(1, 5000).catch(() => {}), s.ended]);
      answers.push(JSON.stringify(s.received.map((r) => r.errors?.map((e) => [e.message, e.extensions?.code]))));
      s.close();
    }
    expect(answers[0]).toContain("BAD_USER_INPUT");
    expect(new Set(answers).size).toBe(1);
  });

  it("streams only the sub-account's own events without privileged data, and ends once its key was rolled out (periodic re-check)", async () => {
    const { subscribe } = await import("../helpers/sse.js");
    const { parse } = await import("graphql");
    const world = await createWorld();
    await setAccountPricing(world.manager.id, { SMS_OUTBOUND: "0.01" });
    await Promise.all([topUp(world.sub.id, "5", world.manager.token), topUp(world.sibling.id, "5", world.manager.token)]);
    const key = await createApiKey(world.manager.token, world.sub.id, "streaming");
    const s = subscribe(parse(SUB) as never, { types: ["USAGE_RECORDED"] } as never, key.secret);
    await new Promise((r) => setTimeout(r, 300));
    await charge(world.sibling.token, world.sibling.id);
    await charge(world.manager.token, world.sub.id);
    await s.waitFor(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(s.received).toHaveLength(1);
    const first = s.received[0]!.data as Loose;
    expect(first.events.account.id).toBe(world.sub.id);
    expect(keysIn(first.events.data).filter((k) => PRIVILEGED_KEYS.includes(k))).toEqual([]);
    // Roll the key out, wait past the re-check interval, and cause an event: the stream must end without it.
    await data(`mutation($input: RollApiKeyInput!) { rollApiKey(input: $input) { __typename } }`, {
      token: world.manager.token,
      variables: { input: { id: key.id, expireCurrentInSeconds: 0 } },
    });
    await new Promise((r) => setTimeout(r, 5_500));
    await charge(world.manager.token, world.sub.id);
    const ended = await Promise.race([s.ended.then(() => true), new Promise((r) => setTimeout(() => r(false), 5_000))]);
    s.close();
    expect(ended).toBe(true);
    expect(s.received).toHaveLength(1);
  });
});

// ------------------------------------------------------------ SSRF

describe("webhook URLs: no server-side request forgery", () => {
  const REFUSED_LITERALS = [
    "https://127.0.0.1/",
    "https://127.1/",
    "https://0x7f.0.0.1/",
    "https://2130706433/",
    "https://017700000001/",
    "https://0.0.0.0/",
    "https://10.1.2.3/",
    "https://172.16.0.1/",
    "https://192.168.0.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/",
    "https://224.0.0.1/",
    "https://255.255.255.255/",
    "https://[::1]/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[0:0:0:0:0:ffff:a9fe:a9fe]/",
    "https://[::127.0.0.1]/",
    "https://[::ffff:0:a9fe:a9fe]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[64:ff9b:1::a00:1]/",
    "https://[2002:a9fe:a9fe::1]/",
    "https://[2001:0::a9fe:a9fe]/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[fd12:3456::1]/",
    "https://[ff02::1]/",
    "https://localhost/",
    "https://user:pw@example.com/",
    "http://example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/",
  ];

  it("refuses private, loopback, link-local and special addresses in every IPv4/IPv6 spelling, without the development setting", async () => {
    const accepted = [];
    for (const url of REFUSED_LITERALS) {
      const verdict = await checkWebhookUrl(url, { allowInsecure: false });
      if (verdict.ok) accepted.push(url);
    }
    expect(accepted).toEqual([]);
    // With the development setting: loopback only, nothing else private.
    for (const url of ["https://10.1.2.3/", "https://169.254.169.254/", "https://[fd00::1]/", "https://[::ffff:a9fe:a9fe]/"]) {
      expect((await checkWebhookUrl(url, { allowInsecure: true })).ok, url).toBe(false);
    }
  });

  it("refuses a name whose DNS answers include a private address (any of them), at creation and through the API", async () => {
    const spy = vi.spyOn(dns.promises, "lookup").mockImplementation((async (host: string) => {
      if (host === "mixed.rebind.test")
        return [
          { address: "93.184.216.34", family: 4 },
          { address: "10.0.0.7", family: 4 },
        ];
      if (host === "v6.rebind.test") return [{ address: "::ffff:169.254.169.254", family: 6 }];
      throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
    }) as never);
    try {
      expect((await checkWebhookUrl("https://mixed.rebind.test/", { allowInsecure: false })).ok).toBe(false);
      expect((await checkWebhookUrl("https://v6.rebind.test/", { allowInsecure: true })).ok).toBe(false);
      process.env.WEBHOOK_ALLOW_INSECURE = "false";
      const created = (
        await data(CREATE_ENDPOINT, { token: w.sub.token, variables: { input: { accountId: w.sub.id, url: "https://mixed.rebind.test/hook" } } })
      ).createWebhookEndpoint;
      expect(created.__typename).toBe("ValidationError");
    } finally {
      process.env.WEBHOOK_ALLOW_INSECURE = "true";
      spy.mockRestore();
    }
  });

  it("updateWebhookEndpoint refuses a private URL; a stored loopback URL is refused at delivery once the development setting is off (rebinding, or a disable/enable)", async () => {
    let connections = 0;
    const server = http.createServer((_req, res) => res.end("ok"));
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const endpoint = await createEndpoint(w.sub.token, w.sub.id, `http://127.0.0.1:${port}/hooks`);
      process.env.WEBHOOK_ALLOW_INSECURE = "false";
      const upd = (await data(UPDATE_ENDPOINT, { token: w.sub.token, variables: { input: { id: endpoint, url: "https://169.254.169.254/" } } }))
        .updateWebhookEndpoint;
      expect(upd.__typename).toBe("ValidationError");
      for (const enabled of [false, true]) {
        expect((await data(UPDATE_ENDPOINT, { token: w.sub.token, variables: { input: { id: endpoint, enabled } } })).updateWebhookEndpoint.__typename).toBe(
          "UpdateWebhookEndpointSuccess",
        );
      }
      // Delivery-time check: a name that now resolves to loopback, and the literal itself.
      const spy = vi.spyOn(dns.promises, "lookup").mockImplementation((async () => [{ address: "127.0.0.1", family: 4 }]) as never);
      try {
        for (const url of [
          `https://rebind.test:${port}/`,
          `https://127.0.0.1:${port}/`,
          `https://[::ffff:127.0.0.1]:${port}/`,
          `https://[::ffff:7f00:1]:${port}/`,
        ]) {
          const outcome = await deliver({ url, body: "{}", headers: {} }, { allowInsecure: false, timeoutMs: 2000 });
          expect({ url, ok: outcome.ok, error: outcome.error }).toEqual({ url, ok: false, error: expect.stringMatching(/refused/) });
        }
      } finally {
        spy.mockRestore();
      }
      await charge(w.sub.token, w.sub.id);
      // Its own endpoint only: with the development setting off, a deliverer of every endpoint would fail other files' loopback ones.
      const deliverer = new WebhookDeliverer({ onlyEndpoints: [dbId(endpoint)] });
      deliverer.start();
      deliverer.poke();
      const started = Date.now();
      let attempted = null;
      while (Date.now() - started < 8000) {
        attempted = await prisma.webhookDelivery.findFirst({ where: { endpointId: dbId(endpoint), attempts: { gt: 0 } } });
        if (attempted) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await deliverer.stop();
      expect(attempted?.responseStatus).toBeNull();
      expect(attempted?.status).not.toBe("SUCCEEDED");
      expect(connections).toBe(0);
    } finally {
      process.env.WEBHOOK_ALLOW_INSECURE = "true";
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("does not follow redirects (a 3xx is a failed attempt; the target is never called)", async () => {
    const target = await startReceiver();
    const redirector = await startReceiver(() => ({ status: 307, location: target.url }));
    receivers.push(target, redirector);
    const outcome = await deliver({ url: redirector.url, body: "{}", headers: {} }, { allowInsecure: true, timeoutMs: 2000 });
    expect(outcome).toMatchObject({ ok: false, status: 307, error: "redirect" });
    await new Promise((r) => setTimeout(r, 200));
    expect(target.received).toHaveLength(0);
  });
});

// ------------------------------------------------------------ trigger oracle

describe("usage triggers on a shared (rollup) balance", () => {
  it("a rollup sub-account cannot learn when its manager's own charges take the shared balance past a threshold of its choosing", async () => {
    const manager = (await createWorld()).manager;
    await setAccountPricing(manager.id, { SMS_OUTBOUND: "1" });
    await topUp(manager.id, "10");
    const rollup = await createSubAccount(manager, { rollupBilling: true });
    // DOMAIN.md / README: the shared balance is the manager's, and a rollup sub-account's `available` is null for it.
    const own = await data(`query($id: ID!) { node(id: $id) { ... on SubAccount { balance { available { amount } } } } }`, {
      token: rollup.token,
      variables: { id: rollup.id },
    });
    expect(own.node.balance.available).toBeNull();
    // The sub-account sets a NOTIFY trigger on "the balance it draws on" at 8.5 ...
    const created = (
      await data(CREATE_TRIGGER, { token: rollup.token, variables: { input: { accountId: rollup.id, condition: "BALANCE_FALLS_TO", threshold: "8.5" } } })
    ).createUsageTrigger;
    // ... and the manager charges only itself (its own usage, none of the sub-account's business).
    await charge(manager.token, manager.id);
    await charge(manager.token, manager.id);
    const fired = await eventsOf(rollup.token, rollup.id, ["USAGE_TRIGGER_FIRED"]);
    const trigger =
      created.__typename === "CreateUsageTriggerSuccess"
        ? (
            await data(`query($id: ID!) { node(id: $id) { ... on UsageTrigger { lastFiredAt } } }`, {
              token: rollup.token,
              variables: { id: created.trigger.id },
            })
          ).node
        : null;
    // Nothing the sub-account can read may tell it that the manager's balance went from above 8.5 to 8.5 or below.
    expect({ firedEvents: fired.totalCount, lastFiredAt: trigger?.lastFiredAt ?? null }).toEqual({ firedEvents: 0, lastFiredAt: null });
  });
});

// ------------------------------------------------------------ closed accounts

describe("webhook endpoints of a closed sub-account", () => {
  it("a CLOSED sub-account, whose every key is now a 401, has no more events pushed to its endpoint (the manager's recovery transfer out of it)", async () => {
    const world = await createWorld();
    await topUp(world.sub.id, "5", world.manager.token);
    const r = await startReceiver();
    receivers.push(r);
    const endpoint = await createEndpoint(world.sub.token, world.sub.id, r.url, ["BALANCE_TRANSFERRED"]);
    await data(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`, { token: world.manager.token, variables: { id: world.sub.id } });
    expect((await call(VIEWER, { token: world.sub.token })).status).toBe(401);
    // The manager takes back what the closed sub-account held.
    const moved = await data(`mutation($input: TransferBalanceInput!) { transferBalance(input: $input) { __typename ... on Error { code message } } }`, {
      token: world.manager.token,
      variables: { input: { fromAccountId: world.sub.id, toAccountId: world.manager.id, amount: "5", idempotencyKey: unique("recover") } },
    });
    expect(moved.transferBalance.__typename).toBe("TransferBalanceSuccess");
    while ((await dispatchOnce()) > 0);
    // The account may see nothing any more (DOMAIN.md: endpoints receive what their account may see).
    expect(await prisma.webhookDelivery.count({ where: { endpointId: dbId(endpoint) } })).toBe(0);
  });
});
