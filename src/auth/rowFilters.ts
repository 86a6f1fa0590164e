import type { Prisma } from "../generated/prisma/client.js";
import type { Viewer } from "./viewer.js";

// Row filters: for each model, the rows a viewer may reach, as a Prisma
// `where` fragment built from the caller (never from input). Every root
// lookup (node, nodes, managers, mutations naming an id) goes through one of
// these; nested relations start from a row that already passed.
//
// Combine them with `within(where, filter)`, never by spreading: a spread
// filter's `id` would silently replace the `id` asked for.

/** `where` AND the row filter, with neither able to override the other. */
export function within<W extends object>(where: W, rowFilter: W): { AND: W[] } {
  return { AND: [where, rowFilter] };
}

/** The operator reaches every account, a manager itself and its sub-accounts, a sub-account itself. */
export function reachableAccounts(viewer: Viewer): Prisma.AccountWhereInput {
  switch (viewer.role) {
    case "OPERATOR":
      return {};
    case "MANAGER":
      return { OR: [{ id: viewer.accountId }, { managerId: viewer.accountId }] };
    case "SUB_ACCOUNT":
      return { id: viewer.accountId };
  }
}

/**
 * reachableAccounts as a SQL condition on the row alias `t`, for statements
 * written in SQL (the locks of services/transactions.ts, recordUsage's
 * charge). `viewerId` is the placeholder bound to the viewer's account id
 * (the operator's condition uses none). test/security/rowFilters.test.ts
 * proves both forms reach the same rows.
 */
export function reachableAccountsSql(role: Viewer["role"], viewerId: string): string {
  switch (role) {
    case "OPERATOR":
      return "true";
    case "MANAGER":
      return `(t."id" = ${viewerId}::uuid OR t."managerId" = ${viewerId}::uuid)`;
    case "SUB_ACCOUNT":
      return `t."id" = ${viewerId}::uuid`;
  }
}

/** The values the placeholders of reachableAccountsSql take, in order. */
export const reachableAccountsSqlValues = (viewer: Viewer): string[] => (viewer.role === "OPERATOR" ? [] : [viewer.accountId]);

/** API keys of reachable accounts. */
export function reachableApiKeys(viewer: Viewer): Prisma.ApiKeyWhereInput {
  return viewer.role === "OPERATOR" ? {} : { account: reachableAccounts(viewer) };
}

/** Phone numbers (released ones too) held by a reachable account: a transferred number follows its new owner. */
export function reachablePhoneNumbers(viewer: Viewer): Prisma.PhoneNumberWhereInput {
  return viewer.role === "OPERATOR" ? {} : { account: reachableAccounts(viewer) };
}

/** Usage records of reachable accounts (a sub-account sees its own quantities; costs are a field rule). */
export function reachableUsageRecords(viewer: Viewer): Prisma.UsageRecordWhereInput {
  return viewer.role === "OPERATOR" ? {} : { account: reachableAccounts(viewer) };
}

/**
 * Ledger entries on the balances of reachable accounts; none at all for a
 * sub-account, since every entry reveals a price or a cost (DOMAIN.md).
 */
export function reachableLedgerEntries(viewer: Viewer): Prisma.LedgerEntryWhereInput {
  switch (viewer.role) {
    case "OPERATOR":
      return {};
    case "MANAGER":
      return { balanceAccount: reachableAccounts(viewer) };
    case "SUB_ACCOUNT":
      return { id: { in: [] } };
  }
}

/**
 * Events, by the row rules of the account they are about (DOMAIN.md): a
 * manager's tree (also after a purge), a sub-account's own.
 */
export function reachableEvents(viewer: Viewer): Prisma.EventWhereInput {
  switch (viewer.role) {
    case "OPERATOR":
      return {};
    case "MANAGER":
      return { OR: [{ treeManagerId: viewer.accountId }, { accountId: viewer.accountId }] };
    case "SUB_ACCOUNT":
      return { accountId: viewer.accountId };
  }
}

/** The same rule as reachableEvents, on an event row in memory (the live stream filters each row it read once for all subscribers). */
export function reachesEvent(viewer: Viewer, event: { accountId: string | null; treeManagerId: string | null }): boolean {
  switch (viewer.role) {
    case "OPERATOR":
      return true;
    case "MANAGER":
      return event.treeManagerId === viewer.accountId || event.accountId === viewer.accountId;
    case "SUB_ACCOUNT":
      return event.accountId === viewer.accountId;
  }
}

/** Webhook endpoints of reachable accounts. */
export function reachableWebhookEndpoints(viewer: Viewer): Prisma.WebhookEndpointWhereInput {
  return viewer.role === "OPERATOR" ? {} : { account: reachableAccounts(viewer) };
}

/** Deliveries to reachable endpoints. */
export function reachableWebhookDeliveries(viewer: Viewer): Prisma.WebhookDeliveryWhereInput {
  return viewer.role === "OPERATOR" ? {} : { endpoint: { account: reachableAccounts(viewer) } };
}

/** Usage triggers of reachable accounts. */
export function reachableUsageTriggers(viewer: Viewer): Prisma.UsageTriggerWhereInput {
  return viewer.role === "OPERATOR" ? {} : { account: reachableAccounts(viewer) };
}

/** Audit events about a reachable account, or (for a manager) anywhere in its tree, also after a purge. */
export function reachableAuditEvents(viewer: Viewer): Prisma.AuditEventWhereInput {
  switch (viewer.role) {
    case "OPERATOR":
      return {};
    case "MANAGER":
      return { OR: [{ treeManagerId: viewer.accountId }, { accountId: viewer.accountId }] };
    case "SUB_ACCOUNT":
      return { accountId: viewer.accountId };
  }
}
