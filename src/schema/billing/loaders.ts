import DataLoader from "dataloader";
import { prisma } from "../../db/client.js";
import type { PriceList } from "../../domain/pricing.js";
import { afterResolvers, requestCache } from "../../read/requestCache.js";
import { loadUsageSeries, type SeriesRow } from "../../read/usageReport.js";
import { loadUsageTotals, type UsageTotals } from "../../services/billing.js";
import { loadPriceLists, type PricingSubject } from "../../services/pricing.js";
import type { ReportPeriod } from "../../services/usageReports.js";

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

export interface UsageSeriesKey {
  accountId: string;
  period: ReportPeriod;
}

const periodKey = (p: ReportPeriod) => `${p.from.toISOString()}/${p.to.toISOString()}/${p.groupBy ?? ""}`;

/** Usage per account, product and bucket, batched: one GROUP BY statement per distinct period and grouping. */
export const usageSeriesLoader = requestCache(
  () =>
    new DataLoader<UsageSeriesKey, SeriesRow[], string>(
      async (keys) => {
        const periods = new Map<string, { period: ReportPeriod; ids: string[] }>();
        for (const k of keys) {
          const key = periodKey(k.period);
          if (!periods.has(key)) periods.set(key, { period: k.period, ids: [] });
          periods.get(key)!.ids.push(k.accountId);
        }
        const rows = new Map<string, SeriesRow[]>();
        await Promise.all(
          [...periods].map(async ([key, p]) => {
            for (const row of await loadUsageSeries(p.ids, p.period)) {
              const at = `${row.accountId}/${key}`;
              const list = rows.get(at);
              if (list) list.push(row);
              else rows.set(at, [row]);
            }
          }),
        );
        return keys.map((k) => rows.get(`${k.accountId}/${periodKey(k.period)}`) ?? []);
      },
      { cacheKeyFn: (k) => `${k.accountId}/${periodKey(k.period)}`, batchScheduleFn: afterResolvers },
    ),
);
