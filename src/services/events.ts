// The event log (DOMAIN.md "Events and webhooks"): one row per thing that
// happened, written in the transaction of the change itself, so an event
// exists exactly when its change committed. Account.events, node(id), the
// events subscription and webhook deliveries all read these rows.
//
// An event's payload comes in two parts, decided where it is written:
// `data`, what anyone who reaches the event may read (a sub-account about
// itself), and `privilegedData`, merged in only for managers and operators
// (prices, costs, ledger entries, a counterparty in another part of the
// tree). Readers never filter a payload field by field: what a sub-account
// must not see is never in `data`.

import { encodeGlobalID } from "@pothos/plugin-relay";
import { actorOf as actorOfViewer, type Viewer } from "../auth/viewer.js";
import type { Prisma, Tx } from "../db/client.js";
import { CURRENCY, formatMicros } from "../domain/money.js";
import type { Account, AccountKind, AccountStatus, ApiKey, EventType, PhoneNumber, Product, Role } from "../generated/prisma/client.js";

/** What an event says, in its two parts (see above). */
export interface EventPayload {
  data: Record<string, unknown>;
  privileged?: Record<string, unknown>;
}

/** The account an event is about: its id, and the tree it belongs to. */
export type EventSubject = Pick<Account, "id" | "kind" | "managerId">;

/** A new event, as the transaction that writes it describes it. */
export interface NewEvent extends EventPayload {
  type: EventType;
}

/** Money as the API shows it (the Money type), for payloads. */
export const moneyData = (micros: bigint) => ({ amount: formatMicros(micros), currency: CURRENCY });

/** An account as events show it. */
export function accountData(account: Pick<Account, "id" | "kind" | "email" | "organizationName" | "status">) {
  return {
    id: encodeGlobalID(account.kind === "MANAGER" ? "Manager" : "SubAccount", account.id),
    email: account.email,
    organizationName: account.organizationName,
    status: account.status,
  };
}

/** An API key as events show it: never its secret or hash. */
export function apiKeyData(key: Pick<ApiKey, "id" | "name" | "prefix" | "createdAt" | "revokedAt" | "expiresAt" | "restricted" | "permissions">) {
  return {
    id: encodeGlobalID("ApiKey", key.id),
    name: key.name,
    prefix: key.prefix,
    createdAt: key.createdAt.toISOString(),
    revokedAt: key.revokedAt?.toISOString() ?? null,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    permissions: key.restricted ? [...key.permissions] : null,
  };
}

/** A phone number as events show it (its monthly price is pricing, and is not in it). */
export function phoneNumberData(number: Pick<PhoneNumber, "id" | "number" | "status" | "friendlyName">) {
  return { id: encodeGlobalID("PhoneNumber", number.id), number: number.number, status: number.status, friendlyName: number.friendlyName };
}

/** The event of an account's move to status `to` (a manager is suspended or reactivated, never closed). */
export function statusEventType(kind: AccountKind, to: AccountStatus): EventType {
  if (kind === "SUB_ACCOUNT") return ({ ACTIVE: "SUB_ACCOUNT_REACTIVATED", SUSPENDED: "SUB_ACCOUNT_SUSPENDED", CLOSED: "SUB_ACCOUNT_CLOSED" } as const)[to];
  if (to === "CLOSED") throw new Error("a manager is never closed");
  return to === "ACTIVE" ? "MANAGER_REACTIVATED" : "MANAGER_SUSPENDED";
}

/** The caller that caused an event, as its columns keep it (null for what the system did: purges, the cleanup). */
function actorOf(viewer: Viewer | null) {
  if (!viewer) return { actorRole: null, actorApiKeyPrefix: null, viaActAs: false };
  return actorOfViewer(viewer);
}

/**
 * Writes one event about `account` in the caller's transaction. The tree
 * column (the manager of the account's tree) is what a manager's reach and
 * Manager.events select on; it survives the purge of a sub-account.
 */
export async function recordEvent(tx: Tx | Prisma, viewer: Viewer | null, account: EventSubject, event: NewEvent): Promise<void> {
  await tx.event.create({
    data: {
      type: event.type,
      accountId: account.id,
      treeManagerId: account.kind === "MANAGER" ? account.id : account.managerId,
      ...actorOf(viewer),
      data: event.data as never,
      privilegedData: (event.privileged ?? {}) as never,
    },
  });
}

/**
 * An event's payload as a reader of `readerRole` may read it (a webhook
 * endpoint reads as its account's role): `data` for a sub-account,
 * `data` with `privilegedData` for managers and operators; with the caller
 * that caused it (a sub-account does not see its manager's key prefixes, as
 * with audit events). A manager's key without BILLING_READ reads it
 * without the privileged part too (`withBilling` false).
 */
export function eventPayloadFor(
  readerRole: Role,
  event: { data: unknown; privilegedData: unknown; actorRole: string | null; actorApiKeyPrefix: string | null; viaActAs?: boolean },
  withBilling = true,
): Record<string, unknown> {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const prefix = readerRole === "SUB_ACCOUNT" && event.actorRole !== "SUB_ACCOUNT" ? null : event.actorApiKeyPrefix;
  const actor = event.actorRole ? { role: event.actorRole, apiKeyPrefix: prefix, viaActAs: event.viaActAs ?? false } : null;
  if (readerRole === "SUB_ACCOUNT" || !withBilling) return { ...data, actor };
  return { ...data, ...((event.privilegedData ?? {}) as Record<string, unknown>), actor };
}

/**
 * The CREDIT_LIMIT_REACHED event of a charge the credit limit refused. The
 * charge itself wrote nothing (its transaction or statement failed), so this
 * is written on its own, after the refusal.
 */
export async function recordCreditLimitRefusal(
  db: Tx | Prisma,
  viewer: Viewer,
  account: EventSubject & Pick<Account, "creditLimitMicros" | "totalSpentMicros">,
  charge: { product: Product; quantity: number },
): Promise<void> {
  await recordEvent(db, viewer, account, {
    type: "CREDIT_LIMIT_REACHED",
    data: {
      creditLimit: account.creditLimitMicros === null ? null : moneyData(account.creditLimitMicros),
      totalSpent: moneyData(account.totalSpentMicros),
      refused: true,
      product: charge.product,
      quantity: charge.quantity,
    },
  });
}
