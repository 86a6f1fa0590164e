// DOMAIN.md "Usage triggers": who may create, list and delete them (the
// matrix: operator, manager, foreign manager, sub-account, sibling), what
// input is refused, and how they fire: in the transaction of the charge that
// crosses them, at most once per period, a balance trigger again only after
// the balance rose above it, SUSPEND suspending the sub-account with that
// same charge, on both charge paths (recordUsage's statement and a
// provisioned number's Prisma transaction).

import { print } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { ofType, RECORD_USAGE, recordUsage } from "../billing/operations.js";
import { app, gql, gqlData, OPERATOR_TOKEN, result } from "../helpers/app.js";
import { createManager, createSubAccount, createWorld, provisionNumber, setAccountPricing, type TestAccount, topUp, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId, missingId, missingLike } from "../helpers/ids.js";
import { countEvents, createTrigger, deleteTrigger, eventsOf, flagOf, footprint, newTrigger, TRIGGER_NODE, TRIGGERS_OF, triggerRow } from "./operations.js";

let w: World;
beforeAll(async () => {
  w = await createWorld();
  await setAccountPricing(w.manager.id, { SMS_OUTBOUND: "0.01", VOICE_OUTBOUND_MINUTE: "0.02", PHONE_NUMBER_MONTHLY: "1.25" });
  await setAccountPricing(w.otherManager.id, { SMS_OUTBOUND: "0.01" });
});

/** A fresh sub-account of the world's manager, with `funds` on its own balance (or rollup billing). */
async function customer(options: { funds?: string; rollupBilling?: boolean } = {}): Promise<TestAccount> {
  const sub = await createSubAccount(w.manager, { rollupBilling: options.rollupBilling });
  if (!options.rollupBilling) await topUp(sub.id, options.funds ?? "10", w.manager.token);
  return sub;
}

/** One charge of `quantity` SMS (0.01 each) on the account, as `token`: the result's __typename. */
async function charge(token: string, accountId: string, options: { quantity?: number; product?: "SMS_OUTBOUND" | "VOICE_OUTBOUND_MINUTE" } = {}) {
  return result(await recordUsage(token, { accountId, ...options })).__typename;
}

const SPEND = { condition: "SPEND_REACHES" } as const;
const BALANCE = { condition: "BALANCE_FALLS_TO" } as const;

describe("who may create usage triggers", () => {
  it.each([
    ["the operator", () => OPERATOR_TOKEN],
    ["its manager", () => w.manager.token],
    ["the sub-account itself (NOTIFY)", () => w.sub.token],
  ])("%s creates one on a sub-account: a USAGE_TRIGGER_CREATED event and an audit event in its transaction", async (_who, token) => {
    const before = await footprint([w.sub.id]);
    const trigger = await newTrigger(token(), { accountId: w.sub.id, ...SPEND, threshold: "12.5" });
    expect(trigger).toMatchObject({
      condition: "SPEND_REACHES",
      threshold: { amount: "12.500000", currency: "USD" },
      product: null,
      period: "MONTHLY",
      action: "NOTIFY",
      lastFiredAt: null,
      account: { id: w.sub.id },
    });
    const after = await footprint([w.sub.id]);
    expect([after.triggers, after.audits, after.events]).toEqual([before.triggers + 1, before.audits + 1, before.events + 1]);
    expect(await flagOf(w.sub.id)).toBe(true);
    const [created] = await eventsOf(w.manager.token, w.sub.id, "USAGE_TRIGGER_CREATED");
    expect(created!.data).toMatchObject({ trigger: { id: trigger.id, threshold: { amount: "12.500000", currency: "USD" }, condition: "SPEND_REACHES" } });
    // Thresholds are aggregates, not prices: the sub-account reads the same.
    const [seen] = await eventsOf(w.sub.token, w.sub.id, "USAGE_TRIGGER_CREATED");
    expect(seen!.data.trigger).toEqual(created!.data.trigger);
    expect(await deleteTrigger(w.manager.token, trigger.id)).toEqual({ __typename: "DeleteUsageTriggerSuccess", deletedId: trigger.id });
  });

  it("a manager and the operator create them on the manager itself; the manager's own account holds them", async () => {
    const a = await newTrigger(w.manager.token, { accountId: w.manager.id, ...BALANCE, threshold: "5" });
    const b = await newTrigger(OPERATOR_TOKEN, { accountId: w.manager.id, ...SPEND, threshold: "100", period: "DAILY" });
    expect(a).toMatchObject({ condition: "BALANCE_FALLS_TO", period: "ALL_TIME", account: { id: w.manager.id } });
    expect(b).toMatchObject({ period: "DAILY", account: { id: w.manager.id } });
    expect(await flagOf(w.manager.id)).toBe(true);
    for (const t of [a, b]) expect(result(await gql(DELETE, { token: w.manager.token, variables: { id: t.id } })).__typename).toBe("DeleteUsageTriggerSuccess");
    expect(await flagOf(w.manager.id)).toBe(false);
  });

  it.each([
    ["a foreign manager, on a sub-account", () => w.otherManager.token, () => w.sub.id],
    ["a foreign manager, on a manager", () => w.otherManager.token, () => w.manager.id],
    ["a sibling, on a sub-account", () => w.sibling.token, () => w.sub.id],
    ["a sub-account, on its manager", () => w.sub.token, () => w.manager.id],
    ["anyone, on an id that never existed", () => w.manager.token, () => missingId("SubAccount")],
    ["anyone, on a sub-account id relabelled as a manager's", () => w.manager.token, () => relabel(w.sub.id, "Manager")],
    ["anyone, on a malformed id", () => w.manager.token, () => "not-an-id"],
  ])("%s: NotFoundError, exactly like a missing id, and nothing written", async (_who, token, accountId) => {
    const before = await footprint([w.sub.id, w.manager.id]);
    const r = await createTrigger(token(), { accountId: accountId(), ...SPEND, threshold: "1" });
    expect(r).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND", message: expect.stringMatching(/was not found$/) });
    expect(await footprint([w.sub.id, w.manager.id])).toEqual(before);
  });

  it("SUSPEND by a sub-account, even on itself, is a ForbiddenError naming who may; nothing is written", async () => {
    const before = await footprint([w.sub.id]);
    const r = await createTrigger(w.sub.token, { accountId: w.sub.id, ...SPEND, threshold: "1", action: "SUSPEND" });
    expect(r).toEqual({ __typename: "ForbiddenError", code: "FORBIDDEN", message: "Only an operator or a manager may create usage triggers that suspend" });
    expect(await footprint([w.sub.id])).toEqual(before);
  });

  it("SUSPEND by a manager or the operator on a sub-account is allowed; on a manager it is a ValidationError", async () => {
    const sub = await customer();
    for (const token of [w.manager.token, OPERATOR_TOKEN]) {
      expect(await newTrigger(token, { accountId: sub.id, ...SPEND, threshold: "1", action: "SUSPEND" })).toMatchObject({ action: "SUSPEND" });
    }
    const before = await footprint([w.manager.id]);
    for (const token of [w.manager.token, OPERATOR_TOKEN]) {
      const r = ofType(await createTrigger(token, { accountId: w.manager.id, ...SPEND, threshold: "1", action: "SUSPEND" }), "ValidationError");
      expect(r.fieldErrors).toEqual([{ path: ["action"], message: expect.stringContaining("sub-accounts only") }]);
    }
    expect(await footprint([w.manager.id])).toEqual(before);
  });
});

const DELETE = graphql(
  `mutation($id: ID!) { deleteUsageTrigger(input: { id: $id }) { __typename ... on DeleteUsageTriggerSuccess { deletedId } ... on Error { code message } } }`,
);

/** A global id's row under another type name (which names nothing). */
const relabel = (globalId: string, typename: string) => Buffer.from(`${typename}:${dbId(globalId)}`).toString("base64");

describe("who may read and delete usage triggers", () => {
  let onSub: { id: string };
  let suspending: { id: string };
  let onManager: { id: string };
  beforeAll(async () => {
    onSub = await newTrigger(w.manager.token, { accountId: w.sub.id, ...SPEND, threshold: "3", product: "SMS_OUTBOUND" });
    suspending = await newTrigger(w.manager.token, { accountId: w.sub.id, ...SPEND, threshold: "50", action: "SUSPEND" });
    onManager = await newTrigger(w.manager.token, { accountId: w.manager.id, ...BALANCE, threshold: "2" });
  });

  it.each([
    ["the operator", true, () => OPERATOR_TOKEN],
    ["its manager", true, () => w.manager.token],
    ["the sub-account itself", true, () => w.sub.token],
    ["a sibling", false, () => w.sibling.token],
    ["a foreign manager", false, () => w.otherManager.token],
  ])("%s reaches a sub-account's trigger (%s) on node(id) and Account.usageTriggers, with its totalCount", async (_who, reaches, token) => {
    const { node } = await gqlData(TRIGGER_NODE, { token: token(), variables: { id: onSub.id } });
    if (reaches) expect(node).toEqual({ __typename: "UsageTrigger", id: onSub.id, threshold: { amount: "3.000000" }, account: { id: w.sub.id } });
    else expect(node).toBeNull();
    const list = await gqlData(TRIGGERS_OF, { token: token(), variables: { id: w.sub.id, first: 50 } });
    if (!reaches) return expect(list.node).toBeNull();
    const triggers = list.node && "usageTriggers" in list.node ? list.node.usageTriggers : null;
    expect(triggers?.totalCount).toBe(2);
    // Newest first.
    expect(triggers?.nodes.map((t) => t.id)).toEqual([suspending.id, onSub.id]);
    expect(triggers?.nodes[1]).toMatchObject({
      product: "SMS_OUTBOUND",
      period: "MONTHLY",
      action: "NOTIFY",
      threshold: { amount: "3.000000", currency: "USD" },
    });
  });

  it("a manager's triggers are out of its sub-account's reach, on every path", async () => {
    expect((await gqlData(TRIGGER_NODE, { token: w.sub.token, variables: { id: onManager.id } })).node).toBeNull();
    expect(await deleteTrigger(w.sub.token, onManager.id)).toMatchObject({ __typename: "NotFoundError" });
    const mine = await gqlData(TRIGGERS_OF, { token: w.manager.token, variables: { id: w.manager.id } });
    expect(mine.node && "usageTriggers" in mine.node ? mine.node.usageTriggers.nodes.map((t) => t.id) : null).toEqual([onManager.id]);
  });

  it("a cursor of a trigger out of reach is refused like a made-up one", async () => {
    const page = await gqlData(TRIGGERS_OF, { token: w.manager.token, variables: { id: w.sub.id, first: 1 } });
    const cursor = page.node && "usageTriggers" in page.node ? page.node.usageTriggers.pageInfo.endCursor : null;
    expect(cursor).toBeTruthy();
    const next = await gqlData(TRIGGERS_OF, { token: w.sub.token, variables: { id: w.sub.id, after: cursor } });
    expect(next.node && "usageTriggers" in next.node ? next.node.usageTriggers.nodes.map((t) => t.id) : null).toEqual([onSub.id]);
    for (const token of [w.sibling.token, w.otherManager.token]) {
      const res = await gql(TRIGGERS_OF, { token, variables: { id: token === w.sibling.token ? w.sibling.id : w.otherManager.id, after: cursor } });
      expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    }
  });

  it.each([
    ["a sibling", () => w.sibling.token, () => onSub.id],
    ["a foreign manager", () => w.otherManager.token, () => onSub.id],
    ["anyone, an id that never existed", () => w.manager.token, () => missingLike(onSub.id)],
    ["anyone, an id of another type", () => w.manager.token, () => w.sub.keyId],
    ["anyone, the trigger's id relabelled", () => w.manager.token, () => relabel(onSub.id, "ApiKey")],
  ])("delete by %s: NotFoundError, and nothing changes", async (_who, token, id) => {
    const before = await footprint([w.sub.id]);
    expect(await deleteTrigger(token(), id())).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND", message: "The usage trigger was not found" });
    expect(await footprint([w.sub.id])).toEqual(before);
  });

  it("a sub-account may not delete a SUSPEND trigger (its manager's cap on it): ForbiddenError, nothing changes", async () => {
    const before = await footprint([w.sub.id]);
    expect(await deleteTrigger(w.sub.token, suspending.id)).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect(await footprint([w.sub.id])).toEqual(before);
  });

  it("the sub-account deletes a NOTIFY trigger on itself; the manager deletes the SUSPEND one; the last delete clears the flag", async () => {
    expect(await deleteTrigger(w.sub.token, onSub.id)).toEqual({ __typename: "DeleteUsageTriggerSuccess", deletedId: onSub.id });
    expect(await flagOf(w.sub.id)).toBe(true);
    expect(await deleteTrigger(w.manager.token, suspending.id)).toEqual({ __typename: "DeleteUsageTriggerSuccess", deletedId: suspending.id });
    expect(await flagOf(w.sub.id)).toBe(false);
    // Deleted: gone for everyone, a second delete included.
    expect(await deleteTrigger(w.manager.token, onSub.id)).toMatchObject({ __typename: "NotFoundError" });
    expect((await gqlData(TRIGGER_NODE, { token: OPERATOR_TOKEN, variables: { id: onSub.id } })).node).toBeNull();
    const [deleted] = await eventsOf(w.manager.token, w.sub.id, "USAGE_TRIGGER_DELETED");
    expect(deleted!.data).toMatchObject({ trigger: { id: suspending.id, action: "SUSPEND" }, actor: { role: "MANAGER" } });
    const audit = await prisma.auditEvent.findFirst({ where: { accountId: dbId(w.sub.id), action: "usageTrigger.delete" }, orderBy: { occurredAt: "desc" } });
    expect(audit?.details).toEqual({ usageTriggerId: dbId(suspending.id) });
  });
});

describe("what createUsageTrigger refuses", () => {
  it.each([["-1"], ["0"], ["0.000000"], ["1.1234567"], ["abc"], ["1e3"], [""], [" 1"], ["NaN"], ["10000000000000"]])(
    "threshold %j: ValidationError on threshold, nothing written",
    async (threshold) => {
      const before = await footprint([w.sibling.id]);
      const r = ofType(await createTrigger(w.manager.token, { accountId: w.sibling.id, ...SPEND, threshold }), "ValidationError");
      expect(r.fieldErrors).toEqual([{ path: ["threshold"], message: expect.stringMatching(/^threshold /) }]);
      expect(await footprint([w.sibling.id])).toEqual(before);
    },
  );

  it("a product with BALANCE_FALLS_TO: ValidationError on product; both errors at once with a bad threshold", async () => {
    const before = await footprint([w.sibling.id]);
    const one = ofType(
      await createTrigger(w.manager.token, { accountId: w.sibling.id, ...BALANCE, threshold: "1", product: "SMS_OUTBOUND" }),
      "ValidationError",
    );
    expect(one.fieldErrors.map((e) => e.path)).toEqual([["product"]]);
    const two = ofType(
      await createTrigger(w.manager.token, { accountId: w.sibling.id, ...BALANCE, threshold: "x", product: "SMS_OUTBOUND" }),
      "ValidationError",
    );
    expect(two.fieldErrors.map((e) => e.path)).toEqual([["threshold"], ["product"]]);
    expect(await footprint([w.sibling.id])).toEqual(before);
  });

  it("BALANCE_FALLS_TO keeps ALL_TIME whatever period is sent", async () => {
    const sub = await customer();
    expect(await newTrigger(w.manager.token, { accountId: sub.id, ...BALANCE, threshold: "1", period: "DAILY" })).toMatchObject({ period: "ALL_TIME" });
  });

  it("a balance trigger on a rollup sub-account (its manager's shared balance): ValidationError for everyone, whatever the action", async () => {
    const sub = await customer({ rollupBilling: true });
    const before = await footprint([sub.id, w.manager.id]);
    for (const [token, action] of [
      [w.manager.token, "SUSPEND"],
      [w.manager.token, "NOTIFY"],
      [sub.token, "NOTIFY"],
      [OPERATOR_TOKEN, "NOTIFY"],
    ] as const) {
      const r = ofType(await createTrigger(token, { accountId: sub.id, ...BALANCE, threshold: "1", action }), "ValidationError");
      expect(r.fieldErrors.map((e) => e.path)).toEqual([["condition"]]);
    }
    expect(await footprint([sub.id, w.manager.id])).toEqual(before);
  });

  it("a closed account takes none: ValidationError", async () => {
    const sub = await customer();
    await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), { token: w.manager.token, variables: { id: sub.id } });
    const r = ofType(await createTrigger(w.manager.token, { accountId: sub.id, ...SPEND, threshold: "1" }), "ValidationError");
    expect(r.fieldErrors.map((e) => e.path)).toEqual([["accountId"]]);
  });

  it("the 26th trigger of an account: LimitExceededError with the limit, nothing written; after a delete there is room again", async () => {
    const sub = await customer();
    const made = [];
    for (let i = 0; i < 25; i++) made.push(await newTrigger(w.manager.token, { accountId: sub.id, ...SPEND, threshold: String(i + 1) }));
    const before = await footprint([sub.id]);
    const r = ofType(await createTrigger(w.manager.token, { accountId: sub.id, ...SPEND, threshold: "1" }), "LimitExceededError");
    expect(r).toMatchObject({ code: "LIMIT_EXCEEDED", limit: 25 });
    expect(await footprint([sub.id])).toEqual(before);
    expect((await deleteTrigger(w.manager.token, made[0]!.id)).__typename).toBe("DeleteUsageTriggerSuccess");
    expect(await newTrigger(sub.token, { accountId: sub.id, ...SPEND, threshold: "1" })).toMatchObject({ action: "NOTIFY" });
  });
});

describe("SPEND_REACHES", () => {
  it("MONTHLY counts what was charged before it was created, fires once when crossed, then not again in the month", async () => {
    const sub = await customer();
    expect(await charge(sub.token, sub.id, { quantity: 2 })).toBe("RecordUsageSuccess");
    const trigger = await newTrigger(w.manager.token, { accountId: sub.id, ...SPEND, threshold: "0.03" });
    expect((await triggerRow(trigger.id)).periodSpentMicros).toBe(20_000n);
    expect(await charge(sub.token, sub.id)).toBe("RecordUsageSuccess");
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    for (let i = 0; i < 3; i++) expect(await charge(sub.token, sub.id)).toBe("RecordUsageSuccess");
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    const row = await triggerRow(trigger.id);
    expect(row.periodSpentMicros).toBe(60_000n);
    expect(row.lastFiredAt).not.toBeNull();
    expect(row.periodStart?.getTime()).toBe(Date.UTC(row.createdAt.getUTCFullYear(), row.createdAt.getUTCMonth(), 1));

    // The manager reads the value it fired at; so does the sub-account (spend is its own aggregate), with no privileged part.
    const [byManager] = await eventsOf(w.manager.token, sub.id, "USAGE_TRIGGER_FIRED");
    expect(Object.keys(byManager!.data).sort()).toEqual(["actor", "trigger", "value"]);
    expect(byManager!.data.trigger).toEqual({ ...triggerOf(trigger), lastFiredAt: row.lastFiredAt!.toISOString() });
    expect(byManager!.data.value).toEqual({ amount: "0.030000", currency: "USD" });
    expect(byManager!.data.actor).toMatchObject({ role: "SUB_ACCOUNT", apiKeyPrefix: sub.token.slice(0, 12) });
    const [bySub] = await eventsOf(sub.token, sub.id, "USAGE_TRIGGER_FIRED");
    expect(bySub!.data).toEqual(byManager!.data);
    expect((await prisma.event.findUniqueOrThrow({ where: { id: dbId(byManager!.id) } })).privilegedData).toEqual({});
    const listed = await gqlData(TRIGGERS_OF, { token: sub.token, variables: { id: sub.id } });
    expect(listed.node && "usageTriggers" in listed.node ? listed.node.usageTriggers.nodes[0]?.lastFiredAt : null).toBe(row.lastFiredAt!.toISOString());
  });

  it("a product's trigger ignores other products' charges", async () => {
    const sub = await customer();
    const trigger = await newTrigger(sub.token, { accountId: sub.id, ...SPEND, threshold: "0.02", product: "VOICE_OUTBOUND_MINUTE" });
    for (let i = 0; i < 5; i++) expect(await charge(sub.token, sub.id)).toBe("RecordUsageSuccess");
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(0);
    expect((await triggerRow(trigger.id)).periodSpentMicros).toBe(0n);
    expect(await charge(sub.token, sub.id, { product: "VOICE_OUTBOUND_MINUTE" })).toBe("RecordUsageSuccess");
    const [fired] = await eventsOf(sub.token, sub.id, "USAGE_TRIGGER_FIRED");
    expect(fired!.data).toMatchObject({ trigger: { product: "VOICE_OUTBOUND_MINUTE" }, value: { amount: "0.020000" } });
  });

  it("DAILY fires again once the UTC day has rolled over, counting the new day from zero", async () => {
    const sub = await customer();
    const trigger = await newTrigger(w.manager.token, { accountId: sub.id, ...SPEND, threshold: "0.01", period: "DAILY" });
    expect(await charge(sub.token, sub.id)).toBe("RecordUsageSuccess");
    expect(await charge(sub.token, sub.id)).toBe("RecordUsageSuccess");
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    const row = await triggerRow(trigger.id);
    expect(row.periodSpentMicros).toBe(20_000n);
    const yesterday = new Date(row.periodStart!.getTime() - 86_400_000);
    await prisma.usageTrigger.update({ where: { id: row.id }, data: { periodStart: yesterday, firedPeriodStart: yesterday } });
    expect(await charge(sub.token, sub.id)).toBe("RecordUsageSuccess");
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(2);
    const rolled = await triggerRow(trigger.id);
    expect([rolled.periodStart, rolled.periodSpentMicros, rolled.firedPeriodStart]).toEqual([row.periodStart, 10_000n, row.periodStart]);
  });

  it("ALL_TIME starts from totalSpent and fires at most once, ever", async () => {
    const sub = await customer();
    await charge(sub.token, sub.id, { quantity: 4 });
    const trigger = await newTrigger(w.manager.token, { accountId: sub.id, ...SPEND, threshold: "0.05", period: "ALL_TIME" });
    expect((await triggerRow(trigger.id)).periodSpentMicros).toBe(40_000n);
    for (let i = 0; i < 3; i++) await charge(sub.token, sub.id);
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    expect((await triggerRow(trigger.id)).periodSpentMicros).toBe(70_000n);
  });

  it("a manager's spend trigger counts its own usage, not its rollup sub-accounts'", async () => {
    const manager = w.otherManager;
    await topUp(manager.id, "5");
    const rollup = await createSubAccount(manager, { rollupBilling: true });
    const trigger = await newTrigger(manager.token, { accountId: manager.id, ...SPEND, threshold: "0.02" });
    for (let i = 0; i < 3; i++) expect(await charge(rollup.token, rollup.id)).toBe("RecordUsageSuccess");
    expect((await triggerRow(trigger.id)).periodSpentMicros).toBe(0n);
    await charge(manager.token, manager.id, { quantity: 2 });
    expect(await countEvents(manager.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    await deleteTrigger(manager.token, trigger.id);
  });
});

describe("BALANCE_FALLS_TO", () => {
  it("fires when a charge takes the balance to the threshold, not again while below, again after a top-up and a new crossing", async () => {
    const sub = await customer({ funds: "0.05" });
    await newTrigger(w.manager.token, { accountId: sub.id, ...BALANCE, threshold: "0.03" });
    await charge(sub.token, sub.id); // 0.04
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(0);
    await charge(sub.token, sub.id); // 0.03: crossed
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    await charge(sub.token, sub.id); // 0.02
    await charge(sub.token, sub.id); // 0.01
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    await topUp(sub.id, "0.05", w.manager.token); // 0.06
    await charge(sub.token, sub.id); // 0.05
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    await charge(sub.token, sub.id, { quantity: 3 }); // 0.02: crossed again
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(2);
    const values = (await eventsOf(sub.token, sub.id, "USAGE_TRIGGER_FIRED")).map((e) => e.data.value);
    // Its own balance: the sub-account sees the figure.
    expect(values).toEqual([
      { amount: "0.020000", currency: "USD" },
      { amount: "0.030000", currency: "USD" },
    ]);
  });

  it("a manager's own balance trigger is crossed by its rollup sub-accounts' charges too", async () => {
    const manager = await createManagerWithFunds("0.10");
    const rollup = await createSubAccount(manager, { rollupBilling: true });
    const own = await createSubAccount(manager);
    await topUp(own.id, "1", manager.token);
    const trigger = await newTrigger(manager.token, { accountId: manager.id, ...BALANCE, threshold: "0.08" });
    await charge(own.token, own.id, { quantity: 50 }); // its own balance: the manager's is untouched
    expect(await countEvents(manager.id, "USAGE_TRIGGER_FIRED")).toBe(0);
    await charge(rollup.token, rollup.id, { quantity: 2 }); // 0.08
    const [fired] = await eventsOf(manager.token, manager.id, "USAGE_TRIGGER_FIRED");
    expect(fired!.data).toMatchObject({ trigger: { id: trigger.id }, value: { amount: "0.080000" }, actor: null });
    // Not the sub-account's event: out of its reach.
    expect(await countEvents(rollup.id, "USAGE_TRIGGER_FIRED")).toBe(0);
    // Deleting it clears the manager's flag: rollup charges are one statement again.
    await deleteTrigger(manager.token, trigger.id);
    expect(await flagOf(manager.id)).toBe(false);
  });
});

async function createManagerWithFunds(funds: string): Promise<TestAccount> {
  const manager = await createManager();
  await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.01", PHONE_NUMBER_MONTHLY: "1.25" });
  await topUp(manager.id, funds);
  return manager;
}

/** The trigger as events show it, from the API's view of it. */
function triggerOf(t: {
  id: string;
  condition: string;
  threshold: { amount: string; currency: string };
  product: string | null;
  period: string;
  action: string;
  createdAt: string;
}) {
  return {
    id: t.id,
    condition: t.condition,
    threshold: t.threshold,
    product: t.product,
    period: t.period,
    action: t.action,
    lastFiredAt: null,
    createdAt: t.createdAt,
  };
}

describe("SUSPEND", () => {
  it("the crossing charge succeeds and suspends the sub-account in its transaction; the next charge is refused", async () => {
    const sub = await customer();
    const trigger = await newTrigger(w.manager.token, { accountId: sub.id, ...SPEND, threshold: "0.03", action: "SUSPEND" });
    for (let i = 0; i < 2; i++) expect(await charge(sub.token, sub.id)).toBe("RecordUsageSuccess");
    expect(await charge(sub.token, sub.id)).toBe("RecordUsageSuccess");
    const account = await prisma.account.findUniqueOrThrow({ where: { id: dbId(sub.id) } });
    expect(account.status).toBe("SUSPENDED");
    expect(account.suspendedAt).not.toBeNull();
    const refused = result(await recordUsage(sub.token, { accountId: sub.id }));
    expect(refused).toMatchObject({ __typename: "AccountNotActiveError", status: "SUSPENDED" });
    expect(result(await recordUsage(w.manager.token, { accountId: sub.id })).__typename).toBe("AccountNotActiveError");
    expect(await prisma.usageRecord.count({ where: { accountId: dbId(sub.id) } })).toBe(3);

    const [suspended] = await eventsOf(w.manager.token, sub.id, "SUB_ACCOUNT_SUSPENDED");
    expect(suspended!.data).toMatchObject({ subAccount: { id: sub.id, status: "SUSPENDED" }, reason: "USAGE_TRIGGER", triggerId: trigger.id });
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { accountId: dbId(sub.id), action: "subAccount.suspend" } });
    expect(audit).toMatchObject({ details: { usageTriggerId: dbId(trigger.id) }, actorRole: "SUB_ACCOUNT", treeManagerId: dbId(w.manager.id) });
    const status = await gqlData(graphql(`query($id: ID!) { node(id: $id) { ... on SubAccount { status } } }`), {
      token: sub.token,
      variables: { id: sub.id },
    });
    expect(status.node).toEqual({ status: "SUSPENDED" });

    // Reactivated by its manager, it is charged again; the trigger has fired for this month.
    await gqlData(graphql(`mutation($id: ID!) { reactivateSubAccount(input: { id: $id }) { __typename } }`), {
      token: w.manager.token,
      variables: { id: sub.id },
    });
    expect(await charge(sub.token, sub.id)).toBe("RecordUsageSuccess");
    expect((await prisma.account.findUniqueOrThrow({ where: { id: dbId(sub.id) } })).status).toBe("ACTIVE");
  });

  it("a balance SUSPEND trigger on a sub-account's own balance suspends it with the crossing charge", async () => {
    const sub = await customer({ funds: "0.05" });
    await newTrigger(OPERATOR_TOKEN, { accountId: sub.id, ...BALANCE, threshold: "0.02", action: "SUSPEND" });
    await charge(sub.token, sub.id, { quantity: 2 });
    expect((await prisma.account.findUniqueOrThrow({ where: { id: dbId(sub.id) } })).status).toBe("ACTIVE");
    expect(await charge(sub.token, sub.id)).toBe("RecordUsageSuccess");
    expect((await prisma.account.findUniqueOrThrow({ where: { id: dbId(sub.id) } })).status).toBe("SUSPENDED");
    expect(await charge(sub.token, sub.id)).toBe("AccountNotActiveError");
  });

  it("provisioning a phone number (the Prisma charge path) fires it too: the number is provisioned, the account suspended", async () => {
    const sub = await customer();
    await newTrigger(w.manager.token, { accountId: sub.id, ...SPEND, threshold: "1.25", product: "PHONE_NUMBER_MONTHLY", action: "SUSPEND" });
    const number = await provisionNumber(sub.token, sub.id);
    expect(number.id).toBeTruthy();
    expect((await prisma.account.findUniqueOrThrow({ where: { id: dbId(sub.id) } })).status).toBe("SUSPENDED");
    const [fired] = await eventsOf(w.manager.token, sub.id, "USAGE_TRIGGER_FIRED");
    expect(fired!.data).toMatchObject({ trigger: { product: "PHONE_NUMBER_MONTHLY" }, value: { amount: "1.250000" } });
    expect(await countEvents(sub.id, "SUB_ACCOUNT_SUSPENDED")).toBe(1);
    expect(await charge(sub.token, sub.id)).toBe("AccountNotActiveError");
  });

  it("crossed by a manager acting as the sub-account: the firing and the suspension are recorded as the manager's, viaActAs", async () => {
    const sub = await customer();
    await newTrigger(w.manager.token, { accountId: sub.id, ...SPEND, threshold: "0.01", action: "SUSPEND" });
    const response = await app.fetch("http://gateway.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${w.manager.token}`, "act-as-account": sub.id },
      body: JSON.stringify({
        query: print(RECORD_USAGE),
        variables: { input: { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: "act-as" } },
      }),
    });
    expect(((await response.json()) as { data: { recordUsage: { __typename: string } } }).data.recordUsage.__typename).toBe("RecordUsageSuccess");
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { accountId: dbId(sub.id), action: "subAccount.suspend" } });
    expect(audit).toMatchObject({ actorRole: "MANAGER", actorApiKeyPrefix: w.manager.token.slice(0, 12), viaActAs: true });
    // The sub-account sees that its manager did it, not with which key.
    const [fired] = await eventsOf(sub.token, sub.id, "USAGE_TRIGGER_FIRED");
    expect(fired!.data.actor).toEqual({ role: "MANAGER", apiKeyPrefix: null, viaActAs: true });
    const [suspended] = await eventsOf(sub.token, sub.id, "SUB_ACCOUNT_SUSPENDED");
    expect(suspended!.data).toMatchObject({ reason: "USAGE_TRIGGER", actor: { role: "MANAGER", apiKeyPrefix: null, viaActAs: true } });
  });

  it("a NOTIFY trigger fires on a provisioned number's charge", async () => {
    const sub = await customer();
    await newTrigger(sub.token, { accountId: sub.id, ...SPEND, threshold: "1" });
    await provisionNumber(sub.token, sub.id);
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    expect((await prisma.account.findUniqueOrThrow({ where: { id: dbId(sub.id) } })).status).toBe("ACTIVE");
  });
});
