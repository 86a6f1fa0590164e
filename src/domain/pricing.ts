import type { Product } from "../generated/prisma/client.js";

/** Every product, in the contract's order: a price list has one rate for each. */
export const PRODUCTS = [
  "SMS_OUTBOUND",
  "SMS_INBOUND",
  "MMS_OUTBOUND",
  "VOICE_OUTBOUND_MINUTE",
  "VOICE_INBOUND_MINUTE",
  "PHONE_NUMBER_MONTHLY",
] as const satisfies readonly Product[];

export type PricingSource = "PLATFORM_DEFAULT" | "MANAGER_NEGOTIATED" | "INHERITED_FROM_MANAGER" | "CUSTOM";

/** A rate card: unit price in micros per product. A card may list only some products. */
export type RateCard = ReadonlyMap<Product, bigint>;

export interface PriceList {
  source: PricingSource;
  /** One effective rate per product, in PRODUCTS order. */
  rates: { product: Product; unitPriceMicros: bigint }[];
}

/** What price resolution needs to know about the account being priced. */
export interface PricedAccount {
  kind: "MANAGER" | "SUB_ACCOUNT";
  allowCustomPricing: boolean;
}

export interface RateCards {
  platform: RateCard;
  /** The manager's negotiated card (for a sub-account: its manager's). */
  manager: RateCard;
  /** The sub-account's own custom card; ignored for managers. */
  custom: RateCard;
}

/**
 * The effective price list of an account (DOMAIN.md: Pricing). A manager
 * pays its negotiated rates over the platform defaults. A sub-account uses
 * its custom card only while `allowCustomPricing` is on (turning it off keeps
 * the card but stops using it), else it inherits its manager's rates, live.
 * A product a card does not list falls back to the next level:
 * sub-account -> manager -> platform. The source names the account's own
 * level; a manager without a negotiated card is on PLATFORM_DEFAULT, and a
 * sub-account without a custom card in use is INHERITED_FROM_MANAGER
 * whatever its manager pays.
 */
export function resolvePriceList(account: PricedAccount, cards: RateCards): PriceList {
  const useCustom = account.kind === "SUB_ACCOUNT" && account.allowCustomPricing && cards.custom.size > 0;
  const levels = useCustom ? [cards.custom, cards.manager, cards.platform] : [cards.manager, cards.platform];
  const source: PricingSource =
    account.kind === "MANAGER" ? (cards.manager.size > 0 ? "MANAGER_NEGOTIATED" : "PLATFORM_DEFAULT") : useCustom ? "CUSTOM" : "INHERITED_FROM_MANAGER";
  return {
    source,
    rates: PRODUCTS.map((product) => {
      const price = levels.map((card) => card.get(product)).find((p) => p !== undefined);
      // The migration inserts a platform rate for every product, and nothing deletes one.
      if (price === undefined) throw new Error(`No platform rate for ${product}`);
      return { product, unitPriceMicros: price };
    }),
  };
}

/** The effective unit price of one product. */
export function unitPriceOf(priceList: PriceList, product: Product): bigint {
  return priceList.rates.find((r) => r.product === product)!.unitPriceMicros;
}
