import { reachableLedgerEntries, within } from "../../auth/rowFilters.js";
import { prisma } from "../../db/client.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { AccountRef } from "../accounts/Account.js";
import { builder } from "../builder.js";
import { sharedConnection } from "../connections.js";
import { MoneyRef, money } from "../money.js";
import { registerNodeLoader } from "../node.js";
import { LedgerEntryKindEnum } from "./enums.js";
import { UsageRecordRef } from "./UsageRecord.js";

// Every entry reveals a price or a cost, so the type itself is for managers
// and operators: it is not in a sub-account's schema (schema/roleSchemas.ts),
// `node` does not find it for one, and behind that every field of the type
// checks the scope itself (type scopes run per field; not `runScopesOnType`,
// which graphql-jit cannot run: it calls isTypeOf without the context).
export const LedgerEntryRef = builder.prismaNode("LedgerEntry", {
  description: "One movement of one balance. Managers and operators only.",
  authScopes: { privileged: true },
  extensions: { permission: "BILLING_READ" },
  id: { field: "id" },
  findUnique: (id) => ({ id }),
  fields: (t) => ({
    kind: t.expose("kind", { type: LedgerEntryKindEnum, description: "Why the balance moved." }),
    amount: t.field({ type: MoneyRef, description: "Signed amount: debits are negative.", resolve: (e) => money(e.amountMicros) }),
    balanceAfter: t.field({ type: MoneyRef, description: "The balance right after this entry.", resolve: (e) => money(e.balanceAfterMicros) }),
    account: t.relation("causedByAccount", {
      type: AccountRef,
      nullable: true,
      description:
        "The account whose activity caused the entry (the charged account, the topped-up account, or a transfer's other side); null once that account is purged.",
    }),
    usageRecord: t.relation("usageRecord", { permission: "ACCOUNTS_READ", type: UsageRecordRef, nullable: true, description: "The usage a CHARGE was for." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the entry was written." }),
  }),
});

export const LedgerEntryConnection = sharedConnection(LedgerEntryRef, "LedgerEntry", "ledger entries");

registerNodeLoader("LedgerEntry", "BILLING_READ", (ids, viewer, query) =>
  prisma.ledgerEntry.findMany({ ...query, where: within<Prisma.LedgerEntryWhereInput>({ id: { in: ids } }, reachableLedgerEntries(viewer)) }),
);
