import type { PriceList } from "../../domain/pricing.js";
import { unitPriceOf } from "../../domain/pricing.js";
import { accountRows } from "../../read/accounts.js";
import { ManagerRef } from "../accounts/Manager.js";
import { SubAccountRef } from "../accounts/SubAccount.js";
import { BILLING_DATA, builder } from "../builder.js";
import { MoneyRef, money } from "../money.js";
import { PhoneNumberRef } from "../phoneNumbers/PhoneNumber.js";
import { PricingSourceEnum, ProductEnum } from "./enums.js";
import { priceListLoader } from "./loaders.js";

const RateRef = builder.objectRef<PriceList["rates"][number]>("Rate").implement({
  description: "The effective price of one product.",
  fields: (t) => ({
    product: t.field({ type: ProductEnum, description: "The product.", resolve: (r) => r.product }),
    unitPrice: t.field({ type: MoneyRef, description: "Price per unit.", resolve: (r) => money(r.unitPriceMicros) }),
  }),
});

// Prices are for managers and operators: the type is not in a sub-account's
// schema, and behind that each of its fields checks the scope (type scopes
// run per field; see LedgerEntry.ts on `runScopesOnType`).
export const PriceListRef = builder.objectRef<PriceList>("PriceList").implement({
  description: "The prices an account pays: one effective rate per product. Managers and operators only.",
  authScopes: { privileged: true },
  extensions: { permission: "BILLING_READ" },
  fields: (t) => ({
    source: t.field({ type: PricingSourceEnum, description: "Where the account's prices come from.", resolve: (p) => p.source }),
    rates: t.field({ type: [RateRef], description: "One effective rate per product.", resolve: (p) => p.rates }),
  }),
});

builder.prismaObjectField(ManagerRef, "pricing", (t) =>
  t.field({
    ...BILLING_DATA,
    type: PriceListRef,
    description: "The manager's effective prices: negotiated rates over the platform defaults. Managers and operators only.",
    // What services/pricing.ts loadPriceLists reads of the row.
    reads: ["managerId", "allowCustomPricing"],
    resolve: (manager, _args, ctx) => priceListLoader(ctx).load(manager),
  }),
);

builder.prismaObjectField(SubAccountRef, "pricing", (t) =>
  t.field({
    ...BILLING_DATA,
    type: PriceListRef,
    nullable: true,
    description:
      "The sub-account's effective prices: its manager's, live, or its custom rates while allowCustomPricing is on. Managers and operators only: a sub-account gets null with FORBIDDEN.",
    reads: ["managerId", "allowCustomPricing"],
    resolve: (sub, _args, ctx) => priceListLoader(ctx).load(sub),
  }),
);

builder.prismaObjectField(PhoneNumberRef, "monthlyPrice", (t) =>
  t.field({
    ...BILLING_DATA,
    type: MoneyRef,
    nullable: true,
    description: "The effective PHONE_NUMBER_MONTHLY rate of the number's account. Managers and operators only: a sub-account gets null with FORBIDDEN.",
    reads: ["accountId"],
    resolve: async (number, _args, ctx) =>
      money(unitPriceOf(await priceListLoader(ctx).load((await accountRows(ctx).load(number.accountId))!), "PHONE_NUMBER_MONTHLY")),
  }),
);
