// Pricing: the platform default card, managers' negotiated cards, sub-accounts
// inheriting live, custom cards behind allowCustomPricing.
import { describe, expect, it } from "vitest";
import { gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, type Product, setAccountPricing, topUp, unique } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { ofType, recordUsage, refusedForRole, result, resultOfType, SET_PLATFORM_PRICING, SET_PRICING } from "./operations.js";

const PRICING_OF = graphql(`query($id: ID!) { node(id: $id) { ... on Manager { managerPricing: pricing { source rates { product unitPrice { amount } } } }
  ... on SubAccount { subPricing: pricing { source rates { product unitPrice { amount } } } } } }`);

/** The effective price list of an account as the operator sees it: source plus product -> price. */
async function pricingOf(accountId: string): Promise<Record<string, string>> {
  const { node } = await gqlData(PRICING_OF, { token: OPERATOR_TOKEN, variables: { id: accountId } });
  // A manager's pricing is never null; a sub-account's is null only for the sub-account itself.
  const pricing = node && "managerPricing" in node ? node.managerPricing : node && "subPricing" in node ? node.subPricing : null;
  if (!pricing) throw new Error(`no pricing for ${accountId}: ${JSON.stringify(node)}`);
  return { source: pricing.source, ...Object.fromEntries(pricing.rates.map((r) => [r.product, r.unitPrice.amount])) };
}

const setPricing = (accountId: string, rates: Partial<Record<Product, string>>, token = OPERATOR_TOKEN) =>
  gql(SET_PRICING, {
    token,
    // Object.entries widens the keys to string; they are the Products of `rates`.
    variables: { input: { accountId, rates: (Object.entries(rates) as [Product, string][]).map(([product, unitPrice]) => ({ product, unitPrice })) } },
  });

const updateSub = (token: string, id: string, input: { allowCustomPricing: boolean }) =>
  gqlData(graphql(`mutation($input: UpdateSubAccountInput!) { updateSubAccount(input: $input) { __typename } }`), {
    token,
    variables: { input: { id, ...input } },
  });

describe("pricing", () => {
  it("starts every manager on the documented default rate card", async () => {
    const manager = await createManager();
    const pricing = await pricingOf(manager.id);
    expect(pricing.source).toBe("PLATFORM_DEFAULT");
    // The card the migration inserts (README: "Default rate card"); other tests may move a
    // platform price for a moment, but never these two.
    expect(pricing.SMS_OUTBOUND).toBe("0.007900");
    expect(pricing.PHONE_NUMBER_MONTHLY).toBe("1.150000");
    expect(Object.keys(pricing)).toHaveLength(7);
  });

  it("gives a manager negotiated rates, falling back to the platform for products the card leaves out", async () => {
    const manager = await createManager();
    const r = resultOfType(await setPricing(manager.id, { SMS_OUTBOUND: "0.005", MMS_OUTBOUND: "0" }), "SetPricingSuccess");
    expect(r.account.id).toBe(manager.id);
    expect(r.pricing.source).toBe("MANAGER_NEGOTIATED");
    const pricing = await pricingOf(manager.id);
    expect(pricing).toMatchObject({ source: "MANAGER_NEGOTIATED", SMS_OUTBOUND: "0.005000", MMS_OUTBOUND: "0.000000", SMS_INBOUND: "0.005000" });
    // setAccountPricing replaces the whole card; an empty one removes it.
    result(await setPricing(manager.id, { SMS_INBOUND: "0.001" }));
    expect(await pricingOf(manager.id)).toMatchObject({ source: "MANAGER_NEGOTIATED", SMS_OUTBOUND: "0.007900", SMS_INBOUND: "0.001000" });
    result(await setPricing(manager.id, {}));
    expect((await pricingOf(manager.id)).source).toBe("PLATFORM_DEFAULT");
  });

  it("lets sub-accounts inherit their manager's rates live, and charges them at those rates", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager, { rollupBilling: true });
    await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.02" });
    expect(await pricingOf(sub.id)).toMatchObject({ source: "INHERITED_FROM_MANAGER", SMS_OUTBOUND: "0.020000" });
    await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.03" });
    expect(await pricingOf(sub.id)).toMatchObject({ source: "INHERITED_FROM_MANAGER", SMS_OUTBOUND: "0.030000" });
    await topUp(manager.id, "1");
    expect(resultOfType(await recordUsage(sub.token, { accountId: sub.id, quantity: 10 }), "RecordUsageSuccess").balance.totalSpent.amount).toBe("0.300000");
  });

  it("uses a sub-account's custom card only while allowCustomPricing is on; without it setAccountPricing is a ForbiddenError", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager, { rollupBilling: true });
    await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.02", SMS_INBOUND: "0.01" });
    expect(result(await setPricing(sub.id, { SMS_OUTBOUND: "0.001" }))).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect((await pricingOf(sub.id)).source).toBe("INHERITED_FROM_MANAGER");

    await updateSub(manager.token, sub.id, { allowCustomPricing: true });
    const r = resultOfType(await setPricing(sub.id, { SMS_OUTBOUND: "0.001" }), "SetPricingSuccess");
    expect(r.pricing.source).toBe("CUSTOM");
    // sub -> manager -> platform, product by product.
    expect(await pricingOf(sub.id)).toMatchObject({ source: "CUSTOM", SMS_OUTBOUND: "0.001000", SMS_INBOUND: "0.010000", MMS_OUTBOUND: "0.020000" });
    await topUp(manager.id, "1");
    expect(resultOfType(await recordUsage(sub.token, { accountId: sub.id, quantity: 10 }), "RecordUsageSuccess").balance.totalSpent.amount).toBe("0.010000");

    // Turning it off keeps the card but stops using it; on again, it is back.
    await updateSub(manager.token, sub.id, { allowCustomPricing: false });
    expect(await pricingOf(sub.id)).toMatchObject({ source: "INHERITED_FROM_MANAGER", SMS_OUTBOUND: "0.020000" });
    await updateSub(manager.token, sub.id, { allowCustomPricing: true });
    expect(await pricingOf(sub.id)).toMatchObject({ source: "CUSTOM", SMS_OUTBOUND: "0.001000" });
  });

  it("charges every kind of rate card at the price the account's price list shows", async () => {
    const platform = await createManager();
    const negotiated = await createManager();
    await setAccountPricing(negotiated.id, { SMS_OUTBOUND: "0.02", MMS_OUTBOUND: "0" });
    const inherited = await createSubAccount(negotiated, { rollupBilling: true });
    const custom = await createSubAccount(negotiated, { allowCustomPricing: true });
    result(await setPricing(custom.id, { SMS_OUTBOUND: "0.001", PHONE_NUMBER_MONTHLY: "2" }));
    // A custom card kept while allowCustomPricing is off is not used.
    const customOff = await createSubAccount(negotiated, { rollupBilling: true, allowCustomPricing: true });
    result(await setPricing(customOff.id, { SMS_OUTBOUND: "0.003" }));
    await updateSub(negotiated.token, customOff.id, { allowCustomPricing: false });
    await topUp(platform.id, "100");
    await topUp(negotiated.id, "100");
    await topUp(custom.id, "100", negotiated.token);

    const CHARGE = graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename
      ... on RecordUsageSuccess { usageRecord { cost { amount } } balance { totalSpent { amount } } } } }`);
    // Each product from a different level: the account's own card, its manager's, the platform's.
    const products = ["SMS_OUTBOUND", "SMS_INBOUND", "MMS_OUTBOUND", "PHONE_NUMBER_MONTHLY"] as const;
    for (const [token, account, source] of [
      [OPERATOR_TOKEN, platform, "PLATFORM_DEFAULT"],
      [negotiated.token, negotiated, "MANAGER_NEGOTIATED"],
      [negotiated.token, inherited, "INHERITED_FROM_MANAGER"],
      [OPERATOR_TOKEN, custom, "CUSTOM"],
      [negotiated.token, customOff, "INHERITED_FROM_MANAGER"],
    ] as const) {
      const pricing = await pricingOf(account.id);
      expect(pricing.source).toBe(source);
      for (const product of products) {
        const res = await gql(CHARGE, { token, variables: { input: { accountId: account.id, product, quantity: 1, idempotencyKey: unique("price") } } });
        const { cost } = resultOfType(res, "RecordUsageSuccess").usageRecord;
        expect(cost, `${source} ${product}`).not.toBeNull();
        expect(cost!.amount, `${source} ${product}`).toBe(pricing[product]);
      }
    }
    expect(await pricingOf(custom.id)).toMatchObject({ SMS_OUTBOUND: "0.001000", MMS_OUTBOUND: "0.000000", SMS_INBOUND: "0.005000" });
  });

  it("validates rate cards", async () => {
    const manager = await createManager();
    for (const [rates, path] of [
      [[{ product: "SMS_OUTBOUND", unitPrice: "1e3" }], "rates.0.unitPrice"],
      [[{ product: "SMS_OUTBOUND", unitPrice: "-1" }], "rates.0.unitPrice"],
      [[{ product: "SMS_OUTBOUND", unitPrice: "0.0000001" }], "rates.0.unitPrice"],
      [[{ product: "SMS_OUTBOUND", unitPrice: "10000.000001" }], "rates.0.unitPrice"],
      [
        [
          { product: "SMS_OUTBOUND", unitPrice: "1" },
          { product: "SMS_OUTBOUND", unitPrice: "2" },
        ],
        "rates.1.product",
      ],
    ] as const) {
      const res = await gql(SET_PRICING, { token: OPERATOR_TOKEN, variables: { input: { accountId: manager.id, rates: [...rates] } } });
      const r = ofType(result(res), "ValidationError", JSON.stringify(rates));
      expect(r.fieldErrors.map((e) => e.path.join("."))).toEqual([path]);
    }
    expect((await pricingOf(manager.id)).source).toBe("PLATFORM_DEFAULT");
  });

  it("is set by operators only", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager, { allowCustomPricing: true });
    // Refused: a ForbiddenError, or (role-scoped schemas) not in the caller's schema at all.
    for (const token of [manager.token, sub.token]) {
      expect(refusedForRole(await setPricing(manager.id, { SMS_OUTBOUND: "0" }, token))).toBe(true);
      expect(refusedForRole(await setPricing(sub.id, { SMS_OUTBOUND: "0" }, token))).toBe(true);
      const platform = await gql(SET_PLATFORM_PRICING, { token, variables: { input: { rates: [{ product: "SMS_OUTBOUND", unitPrice: "0" }] } } });
      expect(refusedForRole(platform)).toBe(true);
    }
    expect((await pricingOf(manager.id)).source).toBe("PLATFORM_DEFAULT");
    const missing = Buffer.from("Manager:00000000-0000-7000-8000-000000000000").toString("base64");
    expect(result(await setPricing(missing, { SMS_OUTBOUND: "0" }))).toMatchObject({ __typename: "NotFoundError" });
  });

  it("lets operators change platform defaults, which reach managers without a negotiated rate at once", async () => {
    // VOICE_INBOUND_MINUTE only, and restored: no other test depends on its platform price.
    const manager = await createManager();
    const negotiated = await createManager();
    await setAccountPricing(negotiated.id, { VOICE_INBOUND_MINUTE: "0.5" });
    const before = (await pricingOf(manager.id)).VOICE_INBOUND_MINUTE!;
    const set = (unitPrice: string) =>
      gql(SET_PLATFORM_PRICING, { token: OPERATOR_TOKEN, variables: { input: { rates: [{ product: "VOICE_INBOUND_MINUTE", unitPrice }] } } });
    try {
      const r = resultOfType(await set("0.0123"), "SetPlatformPricingSuccess");
      expect(r.pricing.source).toBe("PLATFORM_DEFAULT");
      expect(r.pricing.rates.find((x) => x.product === "VOICE_INBOUND_MINUTE")?.unitPrice.amount).toBe("0.012300");
      expect((await pricingOf(manager.id)).VOICE_INBOUND_MINUTE).toBe("0.012300");
      expect((await pricingOf(negotiated.id)).VOICE_INBOUND_MINUTE).toBe("0.500000");
    } finally {
      result(await set(before));
    }
    expect(result(await gql(SET_PLATFORM_PRICING, { token: OPERATOR_TOKEN, variables: { input: { rates: [] } } }))).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["rates"] }],
    });
  });
});
