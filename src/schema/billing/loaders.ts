import DataLoader from "dataloader";
import { prisma } from "../../db/client.js";
import type { PriceList } from "../../domain/pricing.js";
import { afterResolvers, requestCache } from "../../read/requestCache.js";
import { loadUsageTotals, type UsageTotals } from "../../services/billing.js";
import { loadPriceLists, type PricingSubject } from "../../services/pricing.js";

// Per-request loaders: the prices and usage of a whole tree cost a fixed
// number of statements, however many accounts the request lists.

/** Effective price lists, batched: two statements per batch. */
export const priceListLoader = requestCache(
  () =>
    new DataLoader<PricingSubject, PriceList, string>(
      async (accounts) => {
        const lists = await loadPriceLists(prisma, accounts);
        return accounts.map((a) => lists.get(a.id)!);
      },
      { cacheKeyFn: (a) => a.id, batchScheduleFn: afterResolvers },
    ),
);

export interface UsagePeriodKey {
  accountId: string;
  from: Date;
  to: Date;
}

/** Usage totals per account and period, batched: one GROUP BY statement per distinct period. */
export const usageTotalsLoader = requestCache(
  () =>
    new DataLoader<UsagePeriodKey, UsageTotals[], string>(
      async (keys) => {
        const periods = new Map<string, { from: Date; to: Date; ids: string[] }>();
        for (const k of keys) {
          const period = `${k.from.toISOString()}/${k.to.toISOString()}`;
          if (!periods.has(period)) periods.set(period, { from: k.from, to: k.to, ids: [] });
          periods.get(period)!.ids.push(k.accountId);
        }
        const results = new Map<string, Map<string, UsageTotals[]>>();
        await Promise.all([...periods].map(async ([period, p]) => results.set(period, await loadUsageTotals(prisma, p.ids, p.from, p.to))));
        return keys.map((k) => results.get(`${k.from.toISOString()}/${k.to.toISOString()}`)!.get(k.accountId)!);
      },
      { cacheKeyFn: (k) => `${k.accountId}/${k.from.toISOString()}/${k.to.toISOString()}`, batchScheduleFn: afterResolvers },
    ),
);
