import { sumMicros } from "../../domain/money.js";
import type { UsageTotals } from "../../services/billing.js";
import { builder } from "../builder.js";
import { MoneyRef, money } from "../money.js";
import { ProductEnum } from "./enums.js";
import { usageTotalsLoader } from "./loaders.js";
import { validatePeriod } from "./UsageRecord.js";

const UsageLineRef = builder.objectRef<UsageTotals>("UsageLine").implement({
  description: "The usage of one product over a period.",
  fields: (t) => ({
    product: t.field({ type: ProductEnum, description: "The product.", resolve: (l) => l.product }),
    quantity: t.int({ description: "Units used.", resolve: (l) => l.quantity }),
    records: t.int({ description: "How many usage records.", resolve: (l) => l.records }),
    cost: t.field({
      type: MoneyRef,
      nullable: true,
      description: "What the usage cost. Managers and operators only: a sub-account gets null with FORBIDDEN.",
      authScopes: { privileged: true },
      resolve: (l) => money(l.costMicros),
    }),
  }),
});

interface UsageSummaryValue {
  from: Date;
  to: Date;
  lines: UsageTotals[];
}

const UsageSummaryRef = builder.objectRef<UsageSummaryValue>("UsageSummary").implement({
  description: "An account's usage over a period, per product.",
  fields: (t) => ({
    from: t.field({ type: "DateTime", description: "Start of the period (inclusive).", resolve: (s) => s.from }),
    to: t.field({ type: "DateTime", description: "End of the period (exclusive).", resolve: (s) => s.to }),
    lines: t.field({ type: [UsageLineRef], description: "One line per product used in the period.", resolve: (s) => s.lines }),
    totalCost: t.field({
      type: MoneyRef,
      nullable: true,
      description: "What all the period's usage cost. Managers and operators only: a sub-account gets null with FORBIDDEN.",
      authScopes: { privileged: true },
      resolve: (s) => money(sumMicros(s.lines.map((l) => l.costMicros))),
    }),
  }),
});

builder.prismaInterfaceField("Account", "usageSummary", (t) =>
  t.field({
    type: UsageSummaryRef,
    description: "The account's own usage from `from` (inclusive) to `to` (exclusive), per product. Batched: a whole tree's summaries cost one statement.",
    args: {
      from: t.arg({ type: "DateTime", required: true, description: "Start of the period (inclusive)." }),
      to: t.arg({ type: "DateTime", required: true, description: "End of the period (exclusive)." }),
    },
    extensions: { validateArgs: validatePeriod },
    // Keyed by the account's id, which every account row keeps.
    reads: [],
    resolve: async (account, { from, to }, ctx) => ({
      from,
      to,
      lines: await usageTotalsLoader(ctx).load({ accountId: account.id, from, to }),
    }),
  }),
);
