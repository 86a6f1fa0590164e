import { prisma } from "../../db/client.js";
import { balanceView } from "../../domain/billing.js";
import type { Account } from "../../generated/prisma/client.js";
import { managerRowOf } from "../../read/accounts.js";
import { ledgerOf } from "../../services/billing.js";
import { BILLING_DATA, builder } from "../builder.js";
import { NEWEST_FIRST } from "../connections.js";
import { MoneyRef, money, moneyOrNull } from "../money.js";
import { LedgerEntryConnection, LedgerEntryRef } from "./LedgerEntry.js";

/** An account's balance: the account row, and its manager's balance for a rollup sub-account. */
export interface BalanceSource {
  account: Account;
  managerBalanceMicros: bigint | null;
}

/** The Balance of an account loaded with its manager (as the billing services return it). */
export const balanceOf = (account: Account & { manager: { balanceMicros: bigint } | null }): BalanceSource => ({
  account,
  managerBalanceMicros: account.manager?.balanceMicros ?? null,
});

export const BalanceRef = builder.objectRef<BalanceSource>("Balance").implement({
  description: "An account's funds and spending. A sub-account with rollup billing shares its manager's balance: its charges are debited there.",
  fields: (t) => ({
    isSubAccount: t.boolean({ description: "Whether this is a sub-account's balance.", resolve: (b) => b.account.kind === "SUB_ACCOUNT" }),
    shared: t.boolean({
      description: "True: charges are debited from the manager's balance (rollup billing).",
      resolve: (b, _args, ctx) => balanceView(b.account, b.managerBalanceMicros, ctx.viewer.role).shared,
    }),
    available: t.field({
      type: MoneyRef,
      nullable: true,
      description:
        "Funds available for charges. On a shared (rollup) balance: the manager's balance, for the manager and operators; null for the sub-account itself.",
      resolve: (b, _args, ctx) => moneyOrNull(balanceView(b.account, b.managerBalanceMicros, ctx.viewer.role).availableMicros),
    }),
    creditLimit: t.field({
      type: MoneyRef,
      nullable: true,
      description: "Cap on totalSpent; null means no cap (managers have none).",
      resolve: (b) => moneyOrNull(b.account.creditLimitMicros),
    }),
    totalSpent: t.field({
      type: MoneyRef,
      description: "Running total of the account's own charges (for a manager: its own usage, not its sub-accounts').",
      resolve: (b) => money(b.account.totalSpentMicros),
    }),
    remainingCredit: t.field({
      type: MoneyRef,
      nullable: true,
      description: "creditLimit - totalSpent, when a limit is set.",
      resolve: (b, _args, ctx) => moneyOrNull(balanceView(b.account, b.managerBalanceMicros, ctx.viewer.role).remainingCreditMicros),
    }),
    ledger: t.prismaConnection(
      {
        ...BILLING_DATA,
        type: LedgerEntryRef,
        description:
          "Movements of this balance, newest first; for a rollup sub-account, the entries on its manager's balance that it caused. Managers and operators only.",
        cursor: "id",
        totalCount: (b) => prisma.ledgerEntry.count({ where: ledgerOf(b.account) }),
        resolve: (query, b) => prisma.ledgerEntry.findMany({ ...query, where: ledgerOf(b.account), orderBy: NEWEST_FIRST }),
      },
      LedgerEntryConnection,
    ),
  }),
});

builder.prismaInterfaceField("Account", "balance", (t) =>
  t.field({
    permission: "ACCOUNTS_READ",
    type: BalanceRef,
    description: "The account's balance, credit limit and total spent.",
    // What billing reads of the row (domain/billing.ts balanceView, ledgerOf); the manager's balance comes from its row.
    reads: ["rollupBilling", "balanceMicros", "creditLimitMicros", "totalSpentMicros", "managerId"],
    // The manager's row comes from the per-request row cache: one statement for a whole tree.
    resolve: async (account, _args, ctx) => ({
      account,
      managerBalanceMicros: (await managerRowOf(ctx, account))?.balanceMicros ?? null,
    }),
  }),
);
