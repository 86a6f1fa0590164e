import { describe, expect, it } from "vitest";
import {
  costOf,
  debit,
  formatMicros,
  MAX_AMOUNT_MICROS,
  MAX_TOP_UP_MICROS,
  parseAmount,
  remainingCredit,
  sumMicros,
  withinCreditLimit,
} from "../../src/domain/money.js";

describe("parseAmount", () => {
  it("reads plain decimals with up to six fractional digits exactly", () => {
    expect(parseAmount("12")).toEqual({ ok: true, micros: 12_000_000n });
    expect(parseAmount("0.5")).toEqual({ ok: true, micros: 500_000n });
    expect(parseAmount("12.500000")).toEqual({ ok: true, micros: 12_500_000n });
    expect(parseAmount("0.000001")).toEqual({ ok: true, micros: 1n });
    // No float on the way: 0.1 + 0.2 style drift cannot happen.
    expect(parseAmount("0.3")).toEqual({ ok: true, micros: 300_000n });
    expect(parseAmount("9007199254740993.000001", { max: 10n ** 30n })).toEqual({ ok: true, micros: 9_007_199_254_740_993_000_001n });
  });

  it.each(["1e3", "NaN", "-1", "+1", "0.0000001", "", " 1", "1 ", "0", "0.000000", "01", "1.", ".5", "1,5", "0x10", "Infinity", "١"])("refuses %j", (input) => {
    expect(parseAmount(input).ok).toBe(false);
  });

  it("accepts zero only when asked (rates and credit limits)", () => {
    expect(parseAmount("0", { allowZero: true })).toEqual({ ok: true, micros: 0n });
    expect(parseAmount("0.000000", { allowZero: true })).toEqual({ ok: true, micros: 0n });
    expect(parseAmount("0")).toEqual({ ok: false, message: "must be greater than zero" });
  });

  it("caps the value", () => {
    expect(parseAmount(formatMicros(MAX_AMOUNT_MICROS)).ok).toBe(true);
    expect(parseAmount(formatMicros(MAX_AMOUNT_MICROS + 1n)).ok).toBe(false);
    expect(parseAmount("1000000", { max: MAX_TOP_UP_MICROS }).ok).toBe(true);
    expect(parseAmount("1000000.000001", { max: MAX_TOP_UP_MICROS })).toEqual({ ok: false, message: "must be at most 1000000.000000" });
  });
});

describe("money arithmetic", () => {
  it("formats micros as exact strings, negative for debits", () => {
    expect(formatMicros(0n)).toBe("0.000000");
    expect(formatMicros(7_900n)).toBe("0.007900");
    expect(formatMicros(-1_500_000n)).toBe("-1.500000");
    expect(formatMicros(debit(250n))).toBe("-0.000250");
  });

  it("costs, sums and credit are exact integers", () => {
    expect(costOf(7_900n, 3)).toBe(23_700n);
    expect(sumMicros([1n, 2n, 3n])).toBe(6n);
    expect(sumMicros([])).toBe(0n);
    expect(remainingCredit(null, 5n)).toBeNull();
    expect(remainingCredit(10n, 4n)).toBe(6n);
    expect(remainingCredit(10n, 10n)).toBe(0n);
    expect(withinCreditLimit(null, 100n, 1n)).toBe(true);
    expect(withinCreditLimit(10n, 9n, 1n)).toBe(true);
    expect(withinCreditLimit(10n, 9n, 2n)).toBe(false);
  });
});
