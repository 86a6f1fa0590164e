import { describe, expect, it } from "vitest";
import { balanceView, payingAccountId, TOP_UP_WINDOW_MS, topUpRetryAfterSeconds } from "../../src/domain/billing.js";
import { PRODUCTS, type RateCards, resolvePriceList, unitPriceOf } from "../../src/domain/pricing.js";
import type { Product } from "../../src/generated/prisma/client.js";

const card = (entries: Partial<Record<Product, bigint>>) => new Map(Object.entries(entries)) as Map<Product, bigint>;
const platform = card(Object.fromEntries(PRODUCTS.map((p, i) => [p, BigInt(1000 * (i + 1))])));
const cards = (manager: Partial<Record<Product, bigint>> = {}, custom: Partial<Record<Product, bigint>> = {}): RateCards => ({
  platform,
  manager: card(manager),
  custom: card(custom),
});
const MANAGER = { kind: "MANAGER", allowCustomPricing: false } as const;
const SUB = { kind: "SUB_ACCOUNT", allowCustomPricing: false } as const;
const CUSTOM_SUB = { kind: "SUB_ACCOUNT", allowCustomPricing: true } as const;

describe("price resolution", () => {
  it("lists one effective rate per product, in the contract's order", () => {
    const list = resolvePriceList(MANAGER, cards());
    expect(list.rates.map((r) => r.product)).toEqual([...PRODUCTS]);
    expect(list).toMatchObject({ source: "PLATFORM_DEFAULT" });
    expect(unitPriceOf(list, "SMS_OUTBOUND")).toBe(1000n);
  });

  it("gives a manager its negotiated rates over the platform defaults, product by product", () => {
    const list = resolvePriceList(MANAGER, cards({ SMS_OUTBOUND: 1n }));
    expect(list.source).toBe("MANAGER_NEGOTIATED");
    expect(unitPriceOf(list, "SMS_OUTBOUND")).toBe(1n);
    expect(unitPriceOf(list, "SMS_INBOUND")).toBe(2000n);
  });

  it("lets a sub-account inherit its manager's rates, negotiated or not", () => {
    expect(resolvePriceList(SUB, cards({ SMS_OUTBOUND: 1n }))).toMatchObject({ source: "INHERITED_FROM_MANAGER" });
    expect(unitPriceOf(resolvePriceList(SUB, cards({ SMS_OUTBOUND: 1n })), "SMS_OUTBOUND")).toBe(1n);
    expect(resolvePriceList(SUB, cards()).source).toBe("INHERITED_FROM_MANAGER");
    expect(unitPriceOf(resolvePriceList(SUB, cards()), "SMS_OUTBOUND")).toBe(1000n);
  });

  it("uses a custom card only while allowCustomPricing is on, falling back sub -> manager -> platform", () => {
    const both = cards({ SMS_OUTBOUND: 1n, SMS_INBOUND: 2n }, { SMS_OUTBOUND: 0n });
    const custom = resolvePriceList(CUSTOM_SUB, both);
    expect(custom.source).toBe("CUSTOM");
    expect(unitPriceOf(custom, "SMS_OUTBOUND")).toBe(0n); // a free product is a price, not a gap
    expect(unitPriceOf(custom, "SMS_INBOUND")).toBe(2n);
    expect(unitPriceOf(custom, "MMS_OUTBOUND")).toBe(3000n);
    const off = resolvePriceList(SUB, both);
    expect(off.source).toBe("INHERITED_FROM_MANAGER");
    expect(unitPriceOf(off, "SMS_OUTBOUND")).toBe(1n);
    // allowCustomPricing on but no card: still the manager's.
    expect(resolvePriceList(CUSTOM_SUB, cards({ SMS_OUTBOUND: 1n })).source).toBe("INHERITED_FROM_MANAGER");
  });

  it("ignores a custom card on a manager", () => {
    expect(unitPriceOf(resolvePriceList(MANAGER, cards({}, { SMS_OUTBOUND: 5n })), "SMS_OUTBOUND")).toBe(1000n);
  });
});

describe("balance rules", () => {
  const base = { id: "s", managerId: "m", balanceMicros: 0n, creditLimitMicros: 100n, totalSpentMicros: 30n };
  it("debits a rollup sub-account's charges from its manager", () => {
    expect(payingAccountId({ ...base, kind: "SUB_ACCOUNT", rollupBilling: true })).toBe("m");
    expect(payingAccountId({ ...base, kind: "SUB_ACCOUNT", rollupBilling: false })).toBe("s");
    expect(payingAccountId({ ...base, id: "m", managerId: null, kind: "MANAGER", rollupBilling: false })).toBe("m");
  });

  it("shows a shared balance's funds to the manager and operator, never to the sub-account", () => {
    const rollup = { ...base, kind: "SUB_ACCOUNT" as const, rollupBilling: true };
    expect(balanceView(rollup, 500n, "MANAGER")).toEqual({
      isSubAccount: true,
      shared: true,
      availableMicros: 500n,
      creditLimitMicros: 100n,
      totalSpentMicros: 30n,
      remainingCreditMicros: 70n,
    });
    expect(balanceView(rollup, 500n, "OPERATOR").availableMicros).toBe(500n);
    expect(balanceView(rollup, 500n, "SUB_ACCOUNT").availableMicros).toBeNull();
    const own = { ...base, kind: "SUB_ACCOUNT" as const, rollupBilling: false, balanceMicros: 9n };
    expect(balanceView(own, null, "SUB_ACCOUNT")).toMatchObject({ shared: false, availableMicros: 9n });
  });
});

describe("top-up rate limit", () => {
  const now = new Date("2026-01-02T00:00:00Z");
  const ago = (ms: number) => new Date(now.getTime() - ms);
  it("allows five in 24 hours and says when the sixth may come", () => {
    const four = [1, 2, 3, 4].map((h) => ago(h * 3_600_000));
    expect(topUpRetryAfterSeconds(four, now)).toBe(0);
    const five = [...four, ago(10 * 3_600_000)];
    // The oldest (10 hours ago) leaves the window in 14 hours.
    expect(topUpRetryAfterSeconds(five, now)).toBe(14 * 3600);
    expect(topUpRetryAfterSeconds([...four, ago(TOP_UP_WINDOW_MS - 1)], now)).toBe(1);
  });
});
