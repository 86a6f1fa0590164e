import type { PrismaModelTypes, PrismaObjectRef } from "@pothos/plugin-prisma";
import { reachableUsageTriggers, within } from "../../auth/rowFilters.js";
import { prisma } from "../../db/client.js";
import type PrismaTypes from "../../generated/pothos-types.js";
import type { Prisma, UsageTrigger } from "../../generated/prisma/client.js";
import { ownerAccountOf } from "../../read/accounts.js";
import { AccountRef } from "../accounts/Account.js";
import { ProductEnum } from "../billing/enums.js";
import { type BuilderTypes, builder } from "../builder.js";
import { type SharedConnection, sharedConnection } from "../connections.js";
import { MoneyRef, money } from "../money.js";
import { registerNodeLoader } from "../node.js";

export const UsageTriggerConditionEnum = builder.enumType("UsageTriggerCondition", {
  description: "What a usage trigger watches.",
  values: {
    SPEND_REACHES: {
      description: "The account's spend in the period (of one product, when `product` is set) reaches `threshold`. A manager's spend is its own usage.",
    },
    BALANCE_FALLS_TO: {
      description:
        "The balance the account draws on (its own, or its manager's shared balance under rollup billing) falls to `threshold` or below, by any charge on that balance.",
    },
  } as const,
});

export const UsageTriggerPeriodEnum = builder.enumType("UsageTriggerPeriod", {
  description: "The period a SPEND_REACHES trigger counts spend over, in UTC; BALANCE_FALLS_TO triggers are ALL_TIME.",
  values: {
    DAILY: { description: "Each UTC calendar day: fires at most once a day." },
    MONTHLY: { description: "Each UTC calendar month: fires at most once a month." },
    ALL_TIME: { description: "Everything the account was ever charged: fires at most once." },
  } as const,
});

export const UsageTriggerActionEnum = builder.enumType("UsageTriggerAction", {
  description: "What a usage trigger does when it fires.",
  values: {
    NOTIFY: { description: "A USAGE_TRIGGER_FIRED event (and so webhooks and subscriptions)." },
    SUSPEND: {
      description:
        "NOTIFY, and suspend the sub-account in the same transaction as the charge, so its next charge is refused. Managers and operators only, on sub-accounts only.",
    },
  } as const,
});

export const UsageTriggerRef: PrismaObjectRef<BuilderTypes, PrismaModelTypes & PrismaTypes["UsageTrigger"], UsageTrigger> = builder.prismaNode("UsageTrigger", {
  description:
    "A threshold on one account's spend or balance, checked in the transaction of every charge that could cross it. Readable like its account (a sub-account: its own); thresholds are aggregates, not prices.",
  // Managed and read with WEBHOOKS_WRITE, like webhook endpoints.
  extensions: { permission: "WEBHOOKS_WRITE" },
  id: { field: "id" },
  findUnique: (id) => ({ id }),
  fields: (t) => ({
    account: t.field({
      type: AccountRef,
      description: "The account it watches.",
      reads: ["accountId"],
      resolve: ownerAccountOf,
    }),
    condition: t.expose("condition", { type: UsageTriggerConditionEnum, description: "What it watches." }),
    threshold: t.field({
      type: MoneyRef,
      description: "The spend to reach, or the balance to fall to.",
      reads: ["thresholdMicros"],
      resolve: (trigger) => money(trigger.thresholdMicros),
    }),
    product: t.expose("product", { type: ProductEnum, nullable: true, description: "SPEND_REACHES on this product only; null: every product." }),
    period: t.expose("period", { type: UsageTriggerPeriodEnum, description: "The period spend is counted over (ALL_TIME for BALANCE_FALLS_TO)." }),
    action: t.expose("action", { type: UsageTriggerActionEnum, description: "What it does when it fires." }),
    lastFiredAt: t.expose("lastFiredAt", {
      type: "DateTime",
      nullable: true,
      description:
        "When it last fired; null if never. It fires at most once per period (once for ALL_TIME; for BALANCE_FALLS_TO, again only after the balance rose above the threshold).",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
  }),
});

registerNodeLoader("UsageTrigger", "WEBHOOKS_WRITE", (ids, viewer, query) =>
  prisma.usageTrigger.findMany({ ...query, where: within<Prisma.UsageTriggerWhereInput>({ id: { in: ids } }, reachableUsageTriggers(viewer)) }),
);

export const UsageTriggerConnection: SharedConnection = sharedConnection(UsageTriggerRef, "UsageTrigger", "usage triggers");
