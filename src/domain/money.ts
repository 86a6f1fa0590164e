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

/** The largest single top-up: one million units (card payments are far smaller). */
export const MAX_TOP_UP_MICROS = 1_000_000n * MICROS_PER_UNIT;
/**
 * The largest unit price a rate card may hold: ten thousand units. With at
 * most MAX_USAGE_QUANTITY units per usage record, one charge stays far below
 * Postgres' BIGINT range.
 */
export const MAX_UNIT_PRICE_MICROS = 10_000n * MICROS_PER_UNIT;

export type ParsedAmount = { ok: true; micros: bigint } | { ok: false; message: string };

/**
 * Parses a plain non-negative decimal string with at most six fractional
 * digits ("12", "0.5", "12.500000"). Exponents, signs, spaces, "NaN" and more
 * digits are refused rather than rounded. `max` caps the value (default
 * MAX_AMOUNT_MICROS).
 */
export function parseAmount(input: string, { allowZero = false, max = MAX_AMOUNT_MICROS } = {}): ParsedAmount {
  const match = DECIMAL.exec(input);
  if (!match) {
    return { ok: false, message: 'must be a plain decimal number with at most 6 fractional digits, e.g. "12.50"' };
  }
  const micros = BigInt(match[1]!) * MICROS_PER_UNIT + BigInt((match[2] ?? "").padEnd(6, "0"));
  if (micros > max) return { ok: false, message: `must be at most ${formatMicros(max)}` };
  if (micros === 0n && !allowZero) return { ok: false, message: "must be greater than zero" };
  return { ok: true, micros };
}

/**
 * Parses a money input for a checker that collects field errors (InputChecker):
 * the micros, or 0n after adding a field error at `path` (whose done() then throws).
 */
export function checkAmount(
  check: { add(path: string, message: string): void },
  input: string,
  path: string,
  options?: Parameters<typeof parseAmount>[1],
): bigint {
  const parsed = parseAmount(input, options);
  if (parsed.ok) return parsed.micros;
  check.add(path, `${path.split(".").at(-1)} ${parsed.message}`);
  return 0n;
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

/** What is left under a credit limit: null when there is no limit. Never negative. */
export function remainingCredit(creditLimitMicros: bigint | null, totalSpentMicros: bigint): bigint | null {
  if (creditLimitMicros == null) return null;
  const left = creditLimitMicros - totalSpentMicros;
  return left > 0n ? left : 0n;
}

/** True when a charge of `costMicros` keeps `totalSpent` within the credit limit (or there is none). */
export function withinCreditLimit(creditLimitMicros: bigint | null, totalSpentMicros: bigint, costMicros: bigint): boolean {
  return creditLimitMicros == null || totalSpentMicros + costMicros <= creditLimitMicros;
}

/** The signed ledger amount of a debit: debits are negative. */
export const debit = (micros: bigint): bigint => -micros;

/** The sum of several amounts. */
export const sumMicros = (values: Iterable<bigint>): bigint => {
  let total = 0n;
  for (const v of values) total += v;
  return total;
};
