/**
 * Money: integers of micro-units (1 unit = 1,000,000 micros) in BigInt, shown
 * as exact decimal strings with six fractional digits. This is the only module
 * that converts or formats money; nothing touches a float.
 */
export const MICROS_PER_UNIT = 1_000_000n;
export const CURRENCY = "USD";
/** The largest amount accepted in input: one trillion units. */
export const MAX_AMOUNT_MICROS = 1_000_000_000_000n * MICROS_PER_UNIT;

const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]{1,6}))?$/;

export type ParsedAmount = { ok: true; micros: bigint } | { ok: false; message: string };

/**
 * Parses a plain non-negative decimal string with at most six fractional
 * digits ("12", "0.5", "12.500000"). Exponents, signs, spaces, "NaN" and more
 * digits are refused rather than rounded.
 */
export function parseAmount(input: string, { allowZero = false } = {}): ParsedAmount {
  const match = DECIMAL.exec(input);
  if (!match) {
    return { ok: false, message: "must be a plain decimal number with at most 6 fractional digits, e.g. \"12.50\"" };
  }
  const micros = BigInt(match[1]!) * MICROS_PER_UNIT + BigInt((match[2] ?? "").padEnd(6, "0"));
  if (micros > MAX_AMOUNT_MICROS) return { ok: false, message: "is too large" };
  if (micros === 0n && !allowZero) return { ok: false, message: "must be greater than zero" };
  return { ok: true, micros };
}

/** Formats micros as an exact decimal string: -1500000n -> "-1.500000". */
export function formatMicros(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const units = abs / MICROS_PER_UNIT;
  const fraction = (abs % MICROS_PER_UNIT).toString().padStart(6, "0");
  return `${negative ? "-" : ""}${units}.${fraction}`;
}

/** The exact cost of `quantity` units at `unitPriceMicros` each. */
export function costOf(unitPriceMicros: bigint, quantity: number): bigint {
  return unitPriceMicros * BigInt(quantity);
}
