import type { PrismaModelTypes, PrismaObjectRef } from "@pothos/plugin-prisma";
import { effectiveStatus, scheduledDeletionAt } from "../../domain/lifecycle.js";
import type PrismaTypes from "../../generated/pothos-types.js";
import type { Account } from "../../generated/prisma/client.js";
import { managerRowOf } from "../../read/accounts.js";
import { type BuilderTypes, builder } from "../builder.js";
import { type SharedConnection, sharedConnection } from "../connections.js";
import { AccountStatusEnum } from "../enums.js";
import { MoneyRef, money, moneyOrNull } from "../money.js";
import { AccountRef } from "./Account.js";
import { ManagerRef } from "./Manager.js";

export const SubAccountRef: PrismaObjectRef<BuilderTypes, PrismaModelTypes & PrismaTypes["Account"], Account> = builder.prismaNode("Account", {
  variant: "SubAccount",
  description: "A sub-account: an account a manager created for one of its customers or business units.",
  interfaces: [AccountRef],
  id: { field: "id" },
  findUnique: (id) => ({ id, kind: "SUB_ACCOUNT" }),
  fields: (t) => ({
    managerEmail: t.field({
      permission: "ACCOUNTS_READ",
      type: "EmailAddress",
      // Read from the manager's row (read/accounts.ts managerRowOf).
      reads: ["managerId"],
      description: "The manager's email (Telnyx's `api_user`). Visible to the sub-account; the manager itself is not.",
      resolve: async (sub, _args, ctx) => (await managerRowOf(ctx, sub))!.email,
    }),
    manager: t.field({
      type: ManagerRef,
      nullable: true,
      reads: ["managerId"],
      description: "The manager of this sub-account. Managers and operators only: a sub-account gets null with FORBIDDEN.",
      authScopes: { privileged: true },
      // A privileged caller that reached the sub-account reaches its manager:
      // the operator reaches everything, a manager is that manager itself.
      resolve: (sub, _args, ctx) => managerRowOf(ctx, sub),
    }),
    rollupBilling: t.exposeBoolean("rollupBilling", {
      permission: "ACCOUNTS_READ",
      description: "True: charges are debited from the manager's balance. Fixed at creation.",
    }),
    allowCustomPricing: t.exposeBoolean("allowCustomPricing", {
      permission: "ACCOUNTS_READ",
      description: "Whether an operator-set custom rate card applies instead of the manager's rates.",
    }),
    creditLimit: t.field({
      permission: "ACCOUNTS_READ",
      type: MoneyRef,
      nullable: true,
      description: "Cap on `totalSpent`; null means no cap.",
      reads: ["creditLimitMicros"],
      resolve: (sub) => moneyOrNull(sub.creditLimitMicros),
    }),
    totalSpent: t.field({
      permission: "ACCOUNTS_READ",
      type: MoneyRef,
      description: "Running total of all the sub-account's charges.",
      reads: ["totalSpentMicros"],
      resolve: (sub) => money(sub.totalSpentMicros),
    }),
    effectiveStatus: t.field({
      permission: "ACCOUNTS_READ",
      type: AccountStatusEnum,
      description: "The status the sub-account acts with: SUSPENDED while its manager is suspended, else its own status.",
      reads: ["status", "managerId"],
      resolve: async (sub, _args, ctx) => effectiveStatus(sub.status, (await managerRowOf(ctx, sub))?.status),
    }),
    suspendedAt: t.expose("suspendedAt", {
      permission: "ACCOUNTS_READ",
      type: "DateTime",
      nullable: true,
      description: "When the sub-account was suspended; null unless SUSPENDED.",
    }),
    closedAt: t.expose("closedAt", {
      permission: "ACCOUNTS_READ",
      type: "DateTime",
      nullable: true,
      description: "When the sub-account was closed; null unless CLOSED.",
    }),
    scheduledDeletionAt: t.field({
      permission: "ACCOUNTS_READ",
      type: "DateTime",
      nullable: true,
      description: "When a closed sub-account will be purged: closedAt + 30 days while the manager's auto-delete is on, else null.",
      reads: ["closedAt", "managerId"],
      resolve: async (sub, _args, ctx) => scheduledDeletionAt(sub.closedAt, (await managerRowOf(ctx, sub))?.autoDeleteClosedSubAccounts ?? false),
    }),
  }),
});

export const SubAccountConnection: SharedConnection = sharedConnection(SubAccountRef, "SubAccount", "sub-accounts");
