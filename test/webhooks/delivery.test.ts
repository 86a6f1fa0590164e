// Webhooks end to end in one process (DOMAIN.md "Events and webhooks"):
// endpoints under the row rules, deliveries signed as Standard Webhooks says
// and verified with the `standardwebhooks` package, bodies under the
// endpoint's account's field rules, at-least-once in order with retries,
// redelivery, auto-disable after 3 days of failure, and the SSRF guard at
// creation. Receivers listen on 127.0.0.1 only.
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { webhookDeliverer } from "../../src/webhooks/delivery.js";
import { gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createWorld, setAccountPricing, topUp, unique, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

const CREATE = graphql(`mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  __typename ... on CreateWebhookEndpointSuccess { signingSecret endpoint { id url enabled eventTypes } } ... on Error { code message } } }`);
const UPDATE = graphql(`mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) {
  __typename ... on UpdateWebhookEndpointSuccess { endpoint { id enabled url } } ... on Error { code } } }`);
const DELETE = graphql(
  `mutation($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { __typename ... on DeleteWebhookEndpointSuccess { deletedId } ... on Error { code } } }`,
);
const REDELIVER = graphql(`mutation($input: RedeliverWebhookEventInput!) { redeliverWebhookEvent(input: $input) {
  __typename ... on RedeliverWebhookEventSuccess { delivery { id status } } ... on Error { code message } } }`);
const DELIVERIES = graphql(`query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { enabled disabledAt
  deliveries(first: 50) { totalCount nodes { id status attempts responseStatus deliveredAt nextAttemptAt event { id type } } } } } }`);
const NODE = graphql(`query($id: ID!) { node(id: $id) { __typename id } }`);
const ENDPOINTS = graphql(`query($id: ID!) { node(id: $id) { ... on Account { webhookEndpoints(first: 50) { totalCount nodes { id } } } } }`);
const RECORD_USAGE = graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename ... on Error { code } } }`);
const EVENTS = graphql(
  `query($id: ID!, $types: [EventType!]) { node(id: $id) { ... on Account { events(first: 20, types: $types) { nodes { id type data } } } } }`,
);

const charge = (token: string, accountId: string, key = unique("wh")) =>
  gqlData(RECORD_USAGE, { token, variables: { input: { accountId, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: key } } });

type HookBody = { id: string; type: string; occurredAt: string; account: { id: string } | null; data: Record<string, unknown> };

function keysIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysIn);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...keysIn(v)]);
  return [];
}

let w: World;
const receivers: Receiver[] = [];
const receiver = async (answer?: Parameters<typeof startReceiver>[0]) => {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
};
const saved = { insecure: process.env.WEBHOOK_ALLOW_INSECURE, delays: process.env.WEBHOOK_RETRY_DELAYS_MS };

async function createEndpoint(token: string, accountId: string, url: string, eventTypes?: string[]) {
  const { createWebhookEndpoint: result } = await gqlData(CREATE, { token, variables: { input: { accountId, url, eventTypes: eventTypes as never } } });
  if (result.__typename !== "CreateWebhookEndpointSuccess") throw new Error(JSON.stringify(result));
  return result;
}

beforeAll(async () => {
  // Loopback receivers need the development setting; retries come quickly here.
  process.env.WEBHOOK_ALLOW_INSECURE = "true";
  process.env.WEBHOOK_RETRY_DELAYS_MS = "200,200,200,200,200";
  webhookDeliverer.start();
  w = await createWorld();
  await setAccountPricing(w.manager.id, { SMS_OUTBOUND: "0.01" });
  await Promise.all([topUp(w.sub.id, "10", w.manager.token), topUp(w.sibling.id, "10", w.manager.token)]);
});
afterAll(async () => {
  await webhookDeliverer.stop();
  await Promise.all(receivers.map((r) => r.close()));
  process.env.WEBHOOK_ALLOW_INSECURE = saved.insecure;
  process.env.WEBHOOK_RETRY_DELAYS_MS = saved.delays;
  if (saved.insecure === undefined) delete process.env.WEBHOOK_ALLOW_INSECURE;
  if (saved.delays === undefined) delete process.env.WEBHOOK_RETRY_DELAYS_MS;
});

describe("webhook deliveries", () => {
  it("POSTs each event, signed as Standard Webhooks says, with the body the endpoint's account may read", async () => {
    const [managerHooks, subHooks] = [await receiver(), await receiver()];
    const managerEndpoint = await createEndpoint(w.manager.token, w.manager.id, managerHooks.url, ["USAGE_RECORDED"]);
    const subEndpoint = await createEndpoint(w.sub.token, w.sub.id, subHooks.url, ["USAGE_RECORDED"]);
    expect(managerEndpoint.signingSecret).toMatch(/^whsec_/);
    await charge(w.sub.token, w.sub.id);
    await charge(w.sibling.token, w.sibling.id);
    await managerHooks.waitFor(2);
    await subHooks.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 300));

    // The manager's endpoint: both sub-accounts' charges, with their costs.
    const verify = (secret: string, hook: { body: string; headers: Record<string, unknown> }) =>
      new Webhook(secret).verify(hook.body, hook.headers as Record<string, string>) as HookBody;
    const managerBodies = managerHooks.received.map((hook) => verify(managerEndpoint.signingSecret, hook));
    expect(managerBodies.map((b) => b.account?.id).sort()).toEqual([w.sub.id, w.sibling.id].sort());
    for (const body of managerBodies) expect(body.data).toHaveProperty("cost");
    // The sub-account's own endpoint: its own charge only, and no price, cost or ledger in it.
    expect(subHooks.received).toHaveLength(1);
    const subBody = verify(subEndpoint.signingSecret, subHooks.received[0]!);
    expect(subBody).toMatchObject({ type: "USAGE_RECORDED", account: { id: w.sub.id } });
    for (const key of ["cost", "unitPrice", "ledgerEntryId", "rates"]) expect(keysIn(subBody.data)).not.toContain(key);
    // A signature made with another secret does not verify.
    expect(() => verify(subEndpoint.signingSecret, managerHooks.received[0]!)).toThrow();
    expect(subHooks.received[0]!.headers["webhook-id"]).toBe(subBody.id);
    await gqlData(DELETE, { token: w.manager.token, variables: { id: managerEndpoint.endpoint.id } });
    await gqlData(DELETE, { token: w.sub.token, variables: { id: subEndpoint.endpoint.id } });
  });

  it("retries a failing receiver with backoff, in order: each attempt once, then every event exactly once with 2xx", async () => {
    // Fails the first three requests, then accepts everything.
    const hooks = await receiver((n) => (n <= 3 ? 500 : 200));
    const { endpoint, signingSecret } = await createEndpoint(w.sub.token, w.sub.id, hooks.url, ["USAGE_RECORDED"]);
    const keys = [unique("o1"), unique("o2"), unique("o3")];
    for (const key of keys) await charge(w.sub.token, w.sub.id, key);
    await hooks.waitFor(6);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const bodies = hooks.received.map((hook) => new Webhook(signingSecret).verify(hook.body, hook.headers as Record<string, string>) as HookBody);
    const keyOf = (b: HookBody) => (b.data.usageRecord as { idempotencyKey: string }).idempotencyKey;
    // The first event was tried 4 times (3 failures, then 2xx) before the second was sent at all.
    expect(bodies.map(keyOf)).toEqual([keys[0], keys[0], keys[0], keys[0], keys[1], keys[2]]);
    expect(new Set(hooks.received.slice(0, 4).map((h) => h.headers["webhook-id"])).size).toBe(1);
    const accepted = bodies.filter((_, i) => hooks.received[i]!.status === 200).map(keyOf);
    expect(accepted).toEqual(keys);
    // Attempts are visible in the API.
    const { node } = await gqlData(DELIVERIES, { token: w.sub.token, variables: { id: endpoint.id } });
    const deliveries = node && "deliveries" in node ? node.deliveries.nodes : [];
    expect(deliveries).toHaveLength(3);
    expect(deliveries.map((d) => d.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    expect(deliveries.map((d) => d.attempts).sort()).toEqual([1, 1, 4]);
    // Redelivery: one more request, queued at the end.
    const eventId = deliveries.find((d) => d.attempts === 4)!.event.id;
    const { redeliverWebhookEvent } = await gqlData(REDELIVER, { token: w.sub.token, variables: { input: { endpointId: endpoint.id, eventId } } });
    expect(redeliverWebhookEvent).toMatchObject({ __typename: "RedeliverWebhookEventSuccess", delivery: { status: "PENDING" } });
    await hooks.waitFor(7);
    expect(keyOf(JSON.parse(hooks.received[6]!.body))).toBe(keys[0]);
    // Another tree's event cannot be redelivered to this endpoint: the same NotFoundError as a made-up one.
    const foreign = await gqlData(EVENTS, { token: w.otherManager.token, variables: { id: w.otherManager.id } });
    const foreignEventId = foreign.node && "events" in foreign.node ? foreign.node.events.nodes[0]!.id : "";
    const refused = await gqlData(REDELIVER, { token: w.sub.token, variables: { input: { endpointId: endpoint.id, eventId: foreignEventId } } });
    expect(refused.redeliverWebhookEvent).toMatchObject({ __typename: "NotFoundError" });
    await gqlData(DELETE, { token: w.sub.token, variables: { id: endpoint.id } });
  });

  it("disables an endpoint that has failed for three days, with an event that says so", async () => {
    const hooks = await receiver(() => 503);
    const { endpoint } = await createEndpoint(w.manager.token, w.sibling.id, hooks.url, ["USAGE_RECORDED"]);
    await prisma.webhookEndpoint.update({ where: { id: dbId(endpoint.id) }, data: { failingSince: new Date(Date.now() - 3 * 24 * 3600 * 1000 - 1000) } });
    await charge(w.sibling.token, w.sibling.id);
    await hooks.waitFor(1);
    const started = Date.now();
    let state: { enabled: boolean; disabledAt: unknown } | undefined;
    while (Date.now() - started < 10_000) {
      const { node } = await gqlData(DELIVERIES, { token: w.manager.token, variables: { id: endpoint.id } });
      state = node && "enabled" in node ? node : undefined;
      if (state && !state.enabled) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(state).toMatchObject({ enabled: false, disabledAt: expect.any(String) });
    const events = await gqlData(EVENTS, { token: w.sibling.token, variables: { id: w.sibling.id, types: ["WEBHOOK_ENDPOINT_DISABLED"] } });
    const disabled = events.node && "events" in events.node ? events.node.events.nodes : [];
    expect(disabled).toHaveLength(1);
    expect(disabled[0]!.data).toMatchObject({ endpoint: { id: endpoint.id, enabled: false } });
    // Nothing more is sent while disabled.
    const before = hooks.received.length;
    await charge(w.sibling.token, w.sibling.id);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(hooks.received.length).toBe(before);
  });
});

describe("webhook endpoints under the row rules", () => {
  it("lets each role reach exactly its tree's endpoints, and answers the others like missing ones", async () => {
    const hooks = await receiver();
    const onSub = await createEndpoint(w.manager.token, w.sub.id, hooks.url);
    // A sub-account on its sibling, a foreign manager on the sub-account: not found, nothing created.
    const before = await prisma.webhookEndpoint.count();
    for (const [token, accountId] of [
      [w.sub.token, w.sibling.id],
      [w.otherManager.token, w.sub.id],
      [w.otherSub.token, w.sub.id],
    ] as const) {
      const { createWebhookEndpoint: result } = await gqlData(CREATE, { token, variables: { input: { accountId, url: hooks.url } } });
      expect(result.__typename).toBe("NotFoundError");
    }
    expect(await prisma.webhookEndpoint.count()).toBe(before);
    const readers = { operator: OPERATOR_TOKEN, manager: w.manager.token, sub: w.sub.token, sibling: w.sibling.token, otherManager: w.otherManager.token };
    const reach = { operator: true, manager: true, sub: true, sibling: false, otherManager: false };
    for (const [who, token] of Object.entries(readers)) {
      const { node } = await gqlData(NODE, { token, variables: { id: onSub.endpoint.id } });
      expect(node !== null, who).toBe(reach[who as keyof typeof reach]);
      const update = await gqlData(UPDATE, { token, variables: { input: { id: onSub.endpoint.id, enabled: true } } });
      expect(update.updateWebhookEndpoint.__typename === "NotFoundError", who).toBe(!reach[who as keyof typeof reach]);
    }
    // Its deliveries follow the same rules, through node too.
    await topUp(w.sub.id, "1", w.manager.token);
    await hooks.waitFor(1);
    const { node: withDeliveries } = await gqlData(DELIVERIES, { token: w.manager.token, variables: { id: onSub.endpoint.id } });
    const deliveryId = withDeliveries && "deliveries" in withDeliveries ? withDeliveries.deliveries.nodes[0]?.id : undefined;
    expect(deliveryId).toBeTruthy();
    for (const [who, token] of Object.entries(readers)) {
      const { node } = await gqlData(NODE, { token, variables: { id: deliveryId! } });
      expect(node !== null, `delivery, ${who}`).toBe(reach[who as keyof typeof reach]);
    }
    const listed = await gqlData(ENDPOINTS, { token: w.sub.token, variables: { id: w.sub.id } });
    const ids = listed.node && "webhookEndpoints" in listed.node ? listed.node.webhookEndpoints.nodes.map((n) => n.id) : [];
    expect(ids).toContain(onSub.endpoint.id);
    for (const token of [w.sibling.token, w.otherManager.token]) {
      expect((await gqlData(DELETE, { token, variables: { id: onSub.endpoint.id } })).deleteWebhookEndpoint.__typename).toBe("NotFoundError");
    }
    // No query returns the secret: the type has no such field.
    const probe = await gql(`query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { secret } } }`, {
      token: w.manager.token,
      variables: { id: onSub.endpoint.id },
    });
    expect(probe.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect((await gqlData(DELETE, { token: w.sub.token, variables: { id: onSub.endpoint.id } })).deleteWebhookEndpoint.__typename).toBe(
      "DeleteWebhookEndpointSuccess",
    );
  });

  it("refuses private, link-local and loopback targets (the SSRF guard), also names resolving to loopback", async () => {
    const url = (u: string) => gqlData(CREATE, { token: w.manager.token, variables: { input: { accountId: w.manager.id, url: u } } });
    // Even with the development setting: private and link-local stay refused.
    for (const target of ["https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "http://192.168.1.10/", "https://[fd00::1]/"]) {
      const { createWebhookEndpoint: result } = await url(target);
      expect(result, target).toMatchObject({ __typename: "ValidationError" });
    }
    process.env.WEBHOOK_ALLOW_INSECURE = "false";
    try {
      for (const target of ["https://127.0.0.1/hook", "https://localhost/hook", "http://example.com/hook", "https://[::1]/"]) {
        const { createWebhookEndpoint: result } = await url(target);
        expect(result, target).toMatchObject({ __typename: "ValidationError" });
      }
    } finally {
      process.env.WEBHOOK_ALLOW_INSECURE = "true";
    }
  });

  it("does not follow a redirect, to a private address or anywhere", async () => {
    const target = await receiver();
    const redirecting = await receiver(() => ({ status: 302, location: "http://10.0.0.1/steal" }));
    const again = await receiver(() => ({ status: 307, location: target.url }));
    const a = await createEndpoint(w.manager.token, w.manager.id, redirecting.url, ["BALANCE_TOPPED_UP"]);
    const b = await createEndpoint(w.manager.token, w.manager.id, again.url, ["BALANCE_TOPPED_UP"]);
    await topUp(w.manager.id, "1");
    await redirecting.waitFor(1);
    await again.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(target.received).toHaveLength(0);
    const { node } = await gqlData(DELIVERIES, { token: w.manager.token, variables: { id: a.endpoint.id } });
    const [delivery] = node && "deliveries" in node ? node.deliveries.nodes : [];
    expect(delivery).toMatchObject({ status: "PENDING", responseStatus: 302 });
    for (const e of [a, b]) await gqlData(DELETE, { token: w.manager.token, variables: { id: e.endpoint.id } });
  });
});
