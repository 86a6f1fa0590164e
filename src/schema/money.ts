import { CURRENCY, formatMicros } from "../domain/money.js";
import { builder } from "./builder.js";

export interface MoneyValue {
  micros: bigint;
}

export const money = (micros: bigint): MoneyValue => ({ micros });
export const moneyOrNull = (micros: bigint | null | undefined): MoneyValue | null => (micros == null ? null : { micros });

export const MoneyRef = builder.objectRef<MoneyValue>("Money").implement({
  description: "An exact amount of money. Never a float.",
  fields: (t) => ({
    amount: t.string({
      description: 'Exact decimal string with six fractional digits, e.g. "12.500000"; negative for debits.',
      resolve: (m) => formatMicros(m.micros),
    }),
    currency: t.string({ description: 'ISO 4217 currency code, e.g. "USD".', resolve: () => CURRENCY }),
  }),
});
