import { reachableUsageRecords, within } from "../../auth/rowFilters.js";
import { prisma } from "../../db/client.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { AccountRef } from "../accounts/Account.js";
import { BILLING_DATA, builder } from "../builder.js";
import { sharedConnection } from "../connections.js";
import { MoneyRef, money } from "../money.js";
import { registerNodeLoader } from "../node.js";
import { ProductEnum } from "./enums.js";

export const UsageRecordRef = builder.prismaNode("UsageRecord", {
  description: "One recorded usage of an account, priced at the account's effective rate when it was recorded.",
  id: { field: "id" },
  findUnique: (id) => ({ id }),
  fields: (t) => ({
    account: t.relation("account", { type: AccountRef, description: "The account whose usage this is." }),
    product: t.expose("product", { type: ProductEnum, description: "What was used." }),
    quantity: t.exposeInt("quantity", { description: "How many units." }),
    occurredAt: t.expose("occurredAt", { type: "DateTime", description: "When the usage happened (as reported; default: when it was recorded)." }),
    idempotencyKey: t.exposeString("idempotencyKey", {
      description: 'The key the usage was recorded with; "phoneNumber:<id>" for the charge of a provisioned number.',
    }),
    cost: t.field({
      type: MoneyRef,
      ...BILLING_DATA,
      nullable: true,
      description: "What the usage cost (quantity x unit price). Managers and operators only: a sub-account gets null with FORBIDDEN.",
      resolve: (record) => money(record.costMicros),
    }),
  }),
});

export const UsageRecordConnection = sharedConnection(UsageRecordRef, "UsageRecord", "usage records");

/** Filters of `Account.usageRecords`: a product, and `from` (inclusive) to `to` (exclusive) on occurredAt. */
export function usageWhere(args: { product?: string | null; from?: Date | null; to?: Date | null }): Prisma.UsageRecordWhereInput {
  return {
    ...(args.product ? { product: args.product as never } : {}),
    ...(args.from || args.to ? { occurredAt: { ...(args.from ? { gte: args.from } : {}), ...(args.to ? { lt: args.to } : {}) } } : {}),
  };
}

/** A period must not end before it starts (checked before execution: BAD_USER_INPUT). */
export function validatePeriod(args: { from?: Date | string | null; to?: Date | string | null }): string[] {
  return args.from && args.to && new Date(args.from).getTime() > new Date(args.to).getTime() ? ["`from` must not be after `to`"] : [];
}

builder.prismaInterfaceField("Account", "usageRecords", (t) =>
  t.relatedConnection(
    "usageRecords",
    {
      description: "The account's own usage, newest first (a manager's list holds its own usage, not its sub-accounts'). Costs are for managers and operators.",
      permission: "ACCOUNTS_READ",
      cursor: "id",
      totalCount: true,
      args: {
        product: t.arg({ type: ProductEnum, required: false, description: "Only this product." }),
        from: t.arg({ type: "DateTime", required: false, description: "Only usage that occurred at or after this time." }),
        to: t.arg({ type: "DateTime", required: false, description: "Only usage that occurred before this time." }),
      },
      query: (args) => ({ where: usageWhere(args), orderBy: [{ occurredAt: "desc" as const }, { id: "desc" as const }] }),
      extensions: { validateArgs: validatePeriod },
      // Keyed by the account's id, which every account row keeps.
      reads: [],
    },
    UsageRecordConnection,
  ),
);

registerNodeLoader("UsageRecord", "ACCOUNTS_READ", (ids, viewer, query) =>
  prisma.usageRecord.findMany({ ...query, where: within<Prisma.UsageRecordWhereInput>({ id: { in: ids } }, reachableUsageRecords(viewer)) }),
);
