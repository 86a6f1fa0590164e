import { assertMayPerform } from "../auth/actions.js";
import type { Viewer } from "../auth/viewer.js";
import type { prisma, Tx } from "../db/client.js";
import { ForbiddenError } from "../domain/errors.js";
import { checkAmount, formatMicros, MAX_UNIT_PRICE_MICROS } from "../domain/money.js";
import { type PricedAccount, type PriceList, type RateCard, resolvePriceList } from "../domain/pricing.js";
import { InputChecker } from "../domain/text.js";
import type { Product } from "../generated/prisma/client.js";
import { findReachableAccount } from "./accounts.js";
import { recordAudit } from "./audit.js";
import type { AccountRef } from "./ids.js";
import { inTransaction, lockReachableAccount } from "./transactions.js";

/** An account as price resolution needs it. */
export type PricingSubject = PricedAccount & { id: string; managerId: string | null };

/**
 * The effective price lists of several accounts in two statements (their own
 * and their managers' cards, and the platform card), whatever their number.
 */
export async function loadPriceLists(db: Tx | typeof prisma, accounts: readonly PricingSubject[]): Promise<Map<string, PriceList>> {
  const ids = [...new Set(accounts.flatMap((a) => (a.managerId ? [a.id, a.managerId] : [a.id])))];
  const [accountRates, platformRates] = await Promise.all([db.accountRate.findMany({ where: { accountId: { in: ids } } }), db.platformRate.findMany()]);
  const cards = new Map<string, Map<Product, bigint>>();
  for (const rate of accountRates) {
    if (!cards.has(rate.accountId)) cards.set(rate.accountId, new Map());
    cards.get(rate.accountId)!.set(rate.product, rate.unitPriceMicros);
  }
  const platform: RateCard = new Map(platformRates.map((r) => [r.product, r.unitPriceMicros]));
  const none: RateCard = new Map();
  return new Map(
    accounts.map((account) => [
      account.id,
      resolvePriceList(account, {
        platform,
        manager: cards.get(account.kind === "MANAGER" ? account.id : account.managerId!) ?? none,
        custom: account.kind === "SUB_ACCOUNT" ? (cards.get(account.id) ?? none) : none,
      }),
    ]),
  );
}

/** The effective price list of one account. */
export async function loadPriceList(db: Tx | typeof prisma, account: PricingSubject): Promise<PriceList> {
  return (await loadPriceLists(db, [account])).get(account.id)!;
}

/** The platform's default rate card as a price list. */
export async function loadPlatformPriceList(db: Tx | typeof prisma): Promise<PriceList> {
  const platform: RateCard = new Map((await db.platformRate.findMany()).map((r) => [r.product, r.unitPriceMicros]));
  return resolvePriceList({ kind: "MANAGER", allowCustomPricing: false }, { platform, manager: new Map(), custom: new Map() });
}

export interface RateInput {
  product: Product;
  unitPrice: string;
}

/**
 * Checks a rate card: each product at most once, each price a plain decimal
 * from 0 (a free product is a valid price) to MAX_UNIT_PRICE_MICROS.
 */
function checkRates(rates: readonly RateInput[], { requireOne }: { requireOne: boolean }): Map<Product, bigint> {
  const check = new InputChecker();
  const card = new Map<Product, bigint>();
  if (requireOne) check.check(rates.length > 0, "rates", "must list at least one rate");
  rates.forEach((rate, i) => {
    if (card.has(rate.product)) check.add(`rates.${i}.product`, `${rate.product} is listed more than once`);
    card.set(rate.product, checkAmount(check, rate.unitPrice, `rates.${i}.unitPrice`, { allowZero: true, max: MAX_UNIT_PRICE_MICROS }));
  });
  check.done();
  return card;
}

const describeCard = (card: ReadonlyMap<Product, bigint>) => Object.fromEntries([...card].map(([p, m]) => [p, formatMicros(m)]));

/**
 * Operators only: changes the platform's default rates for the listed
 * products (the others keep theirs). Managers without a negotiated rate for a
 * product, and their sub-accounts, pay the new price from the next charge on.
 */
export async function setPlatformPricing(viewer: Viewer, rates: readonly RateInput[]): Promise<PriceList> {
  assertMayPerform(viewer, "pricing:setPlatform");
  const card = checkRates(rates, { requireOne: true });
  return inTransaction(async (tx) => {
    const before = new Map((await tx.platformRate.findMany()).map((r) => [r.product, r.unitPriceMicros]));
    const changed = new Map([...card].filter(([product, price]) => before.get(product) !== price));
    for (const [product, unitPriceMicros] of changed) {
      await tx.platformRate.upsert({ where: { product }, create: { product, unitPriceMicros }, update: { unitPriceMicros } });
    }
    if (changed.size) {
      // The platform card belongs to no account: the event has none (recordAudit needs one).
      await tx.auditEvent.create({
        data: { action: "pricing.setPlatform", actorRole: "OPERATOR", actorApiKeyPrefix: null, details: { rates: describeCard(changed) } },
      });
    }
    return loadPlatformPriceList(tx);
  });
}

/**
 * Operators only: replaces an account's own rate card (a manager's negotiated
 * rates, a sub-account's custom rates). Products it does not list fall back to
 * the next level; an empty list removes the card. A sub-account must have
 * `allowCustomPricing` on.
 */
export async function setAccountPricing(viewer: Viewer, { id: accountId, kind }: AccountRef, rates: readonly RateInput[]) {
  assertMayPerform(viewer, "pricing:setAccount");
  const card = checkRates(rates, { requireOne: false });
  return inTransaction(async (tx) => {
    // Serialises two replacements of the same card.
    await lockReachableAccount(tx, viewer, accountId, kind);
    const account = await findReachableAccount(tx, viewer, accountId, kind);
    if (account.kind === "SUB_ACCOUNT" && !account.allowCustomPricing) {
      throw new ForbiddenError("This sub-account does not allow custom pricing; turn allowCustomPricing on first");
    }
    await tx.accountRate.deleteMany({ where: { accountId } });
    if (card.size) {
      await tx.accountRate.createMany({ data: [...card].map(([product, unitPriceMicros]) => ({ accountId, product, unitPriceMicros })) });
    }
    await recordAudit(tx, viewer, {
      action: "pricing.setAccount",
      account,
      details: { rates: describeCard(card) },
      // The rates are pricing: managers and operators only.
      event: { type: "PRICING_UPDATED", data: {}, privileged: { rates: describeCard(card) } },
    });
    return { account, pricing: await loadPriceList(tx, account) };
  });
}
