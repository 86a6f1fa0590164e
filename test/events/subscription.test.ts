// Subscription.events over SSE (DOMAIN.md "Events and webhooks"): each
// subscriber gets what its row rules reach and its field rules show (the
// matrix: operator, manager, foreign manager, sub-account, sibling); a client
// that drops and resumes with `after` misses nothing and gets nothing twice;
// an `after` out of reach is refused like a made-up one.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventStream } from "../../src/events/stream.js";
import { errorCodes, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createWorld, setAccountPricing, topUp, unique, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { type SseSubscription, subscribe } from "../helpers/sse.js";

const EVENTS = graphql(`subscription($types: [EventType!], $after: String) { events(types: $types, after: $after) { id type data account { id } } }`);
const RECORD_USAGE = graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename ... on Error { code } } }`);
const charge = (token: string, accountId: string, key = unique("sse")) =>
  gqlData(RECORD_USAGE, { token, variables: { input: { accountId, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: key } } });

let w: World;
const open: SseSubscription<unknown>[] = [];
const listen = (token: string, variables: { types?: ("USAGE_RECORDED" | "BALANCE_TOPPED_UP")[]; after?: string } = {}) => {
  const subscription = subscribe(EVENTS, variables as never, token);
  open.push(subscription as SseSubscription<unknown>);
  return subscription;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  w = await createWorld();
  await setAccountPricing(w.manager.id, { SMS_OUTBOUND: "0.01" });
  await setAccountPricing(w.otherManager.id, { SMS_OUTBOUND: "0.01" });
  await Promise.all([topUp(w.sub.id, "10", w.manager.token), topUp(w.sibling.id, "10", w.manager.token), topUp(w.otherSub.id, "10", w.otherManager.token)]);
});
afterEach(() => {
  for (const subscription of open.splice(0)) subscription.close();
});

describe("Subscription.events", () => {
  it("delivers each event to exactly the subscribers that reach it, with the reader's field rules", async () => {
    const types = ["USAGE_RECORDED"] as const;
    const [operator, manager, sub, sibling, otherManager] = [OPERATOR_TOKEN, w.manager.token, w.sub.token, w.sibling.token, w.otherManager.token].map((token) =>
      listen(token, { types: [...types] }),
    );
    for (const s of [operator!, manager!, sub!, sibling!, otherManager!]) expect(await s.status).toBe(200);
    await sleep(200);
    await charge(w.sub.token, w.sub.id);
    await charge(w.sibling.token, w.sibling.id);
    await charge(w.otherSub.token, w.otherSub.id);
    await manager!.waitFor(2);
    await sub!.waitFor(1);
    await sibling!.waitFor(1);
    await otherManager!.waitFor(1);
    await sleep(300);

    const about = (s: SseSubscription<unknown>) => s.received.map((m) => (m.data as { events: { account: { id: string } } }).events.account.id);
    expect(about(manager!).sort()).toEqual([w.sub.id, w.sibling.id].sort());
    expect(about(sub!)).toEqual([w.sub.id]);
    expect(about(sibling!)).toEqual([w.sibling.id]);
    expect(about(otherManager!)).toEqual([w.otherSub.id]);
    expect(about(operator!)).toEqual(expect.arrayContaining([w.sub.id, w.sibling.id, w.otherSub.id]));
    // Prices: the manager gets the cost, the sub-account does not.
    const data = (s: SseSubscription<unknown>) => (s.received[0]!.data as { events: { data: Record<string, unknown> } }).events.data;
    expect(data(manager!)).toHaveProperty("cost");
    expect(data(sub!)).not.toHaveProperty("cost");
    expect(data(sub!)).not.toHaveProperty("unitPrice");
    expect(data(sub!)).toMatchObject({ usageRecord: { product: "SMS_OUTBOUND", quantity: 1 } });
  });

  it("resumes after a dropped connection with `after`: nothing missed, nothing twice, in commit order", async () => {
    const first = listen(w.sub.token, { types: ["USAGE_RECORDED"] });
    expect(await first.status).toBe(200);
    await sleep(200);
    const keys = Array.from({ length: 9 }, (_, i) => `resume-${i}-${unique()}`);
    for (const key of keys.slice(0, 3)) await charge(w.sub.token, w.sub.id, key);
    await first.waitFor(3);
    first.close();
    const lastId = (first.received[2]!.data as { events: { id: string } }).events.id;
    // While the client is away: three more (and concurrent ones, committed out of id order).
    await Promise.all(keys.slice(3, 6).map((key) => charge(w.sub.token, w.sub.id, key)));
    const again = listen(w.sub.token, { types: ["USAGE_RECORDED"], after: lastId });
    expect(await again.status).toBe(200);
    await again.waitFor(3);
    for (const key of keys.slice(6)) await charge(w.sub.token, w.sub.id, key);
    await again.waitFor(6);
    await sleep(300);
    const keyOf = (m: { data?: unknown }) =>
      (m.data as { events: { data: { usageRecord: { idempotencyKey: string } } } }).events.data.usageRecord.idempotencyKey;
    const seen = [...first.received.map(keyOf), ...again.received.map(keyOf)];
    expect(seen).toHaveLength(9);
    expect(new Set(seen)).toEqual(new Set(keys));
    expect(seen.slice(0, 3)).toEqual(keys.slice(0, 3));
    expect(seen.slice(6)).toEqual(keys.slice(6));
  });

  it("refuses an `after` the caller cannot reach, like one that never existed", async () => {
    const own = listen(w.otherSub.token, { types: ["USAGE_RECORDED"] });
    expect(await own.status).toBe(200);
    await sleep(200);
    await charge(w.otherSub.token, w.otherSub.id);
    await own.waitFor(1);
    const foreignId = (own.received[0]!.data as { events: { id: string } }).events.id;
    for (const after of [foreignId, "RXZlbnQ6bm9wZQ==", "garbage"]) {
      const attempt = listen(w.sub.token, { after });
      await attempt.ended;
      expect(attempt.received[0]?.errors?.[0]?.extensions?.code, after).toBe("BAD_USER_INPUT");
      expect(attempt.received[0]?.errors?.[0]?.message).toBe("`after` is not an event this subscription can resume from");
    }
  });

  it("drops a subscriber whose client went away", async () => {
    const subscriptions = [listen(w.sub.token), listen(w.manager.token)];
    for (const s of subscriptions) expect(await s.status).toBe(200);
    await sleep(100);
    expect(eventStream.subscriberCount).toBeGreaterThanOrEqual(2);
    for (const s of subscriptions) s.close();
    const started = Date.now();
    while (eventStream.subscriberCount > 0 && Date.now() - started < 5000) await sleep(20);
    expect(eventStream.subscriberCount).toBe(0);
  });

  it("is in every role's schema and needs a key", async () => {
    const anonymous = await gql(`subscription { events { id } }`, {});
    expect(anonymous.status).toBe(401);
    for (const token of [OPERATOR_TOKEN, w.manager.token, w.sub.token]) {
      const { __schema } = await gqlData<{ __schema: { subscriptionType: { fields: { name: string }[] } | null } }>(
        "{ __schema { subscriptionType { fields { name } } } }",
        { token },
      );
      expect(__schema.subscriptionType?.fields.map((f) => f.name)).toEqual(["events"]);
    }
    expect(errorCodes(await gql(`subscription { events(types: [NOT_A_TYPE]) { id } }`, { token: w.sub.token }))).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
  });
});
