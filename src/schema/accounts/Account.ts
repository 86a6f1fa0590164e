import type { PrismaInterfaceRef, PrismaModelTypes } from "@pothos/plugin-prisma";
import { prisma } from "../../db/client.js";
import type PrismaTypes from "../../generated/pothos-types.js";
import type { Account, ApiKey, EventType, Prisma } from "../../generated/prisma/client.js";
import { API_KEYS } from "../../read/lists.js";
import { ApiKeyConnection, ApiKeyRef } from "../apiKeys/ApiKey.js";
import { AuditEventConnection, AuditEventRef, NEWEST_EVENTS_FIRST } from "../audit/AuditEvent.js";
import { type BuilderTypes, builder } from "../builder.js";
import { NEWEST_FIRST, sqlListConnection } from "../connections.js";
import { AccountStatusEnum } from "../enums.js";
import { EventConnection, EventRef, NEWEST_EVENTS_FIRST as NEWEST_LOGGED_FIRST } from "../events/Event.js";
import { EventTypeEnum } from "../events/enums.js";
import { UsageTriggerConnection, UsageTriggerRef } from "../usageTriggers/UsageTrigger.js";
import { WebhookEndpointConnection, WebhookEndpointRef } from "../webhooks/WebhookEndpoint.js";

/** Events about a sub-account; for a manager, about it and its whole tree (also after a purge). */
function auditEventsOf(account: { id: string; kind: string }): Prisma.AuditEventWhereInput {
  return account.kind === "MANAGER" ? { treeManagerId: account.id } : { accountId: account.id };
}

/** Events about an account (for a manager: about it and its whole tree), of the given types (none or empty: every type). */
function eventsOf(account: { id: string; kind: string }, types: readonly EventType[] | null | undefined): Prisma.EventWhereInput {
  const about: Prisma.EventWhereInput = account.kind === "MANAGER" ? { treeManagerId: account.id } : { accountId: account.id };
  return types?.length ? { ...about, type: { in: [...types] } } : about;
}

/** Fields every account has, managers and sub-accounts alike. */
export const AccountRef: PrismaInterfaceRef<BuilderTypes, PrismaModelTypes & PrismaTypes["Account"], Account> = builder.prismaInterface("Account", {
  name: "Account",
  description: "A manager or a sub-account.",
  interfaces: [builder.nodeInterfaceRef()],
  resolveType: (account) => (account.kind === "MANAGER" ? "Manager" : "SubAccount"),
  fields: (t) => ({
    email: t.expose("email", {
      permission: "ACCOUNTS_READ",
      type: "EmailAddress",
      description: "Contact email, stored lowercased; unique within its tree (a manager and its sub-accounts) and among managers.",
    }),
    organizationName: t.exposeString("organizationName", {
      permission: "ACCOUNTS_READ",
      nullable: true,
      description: "Name of the organization behind the account.",
    }),
    status: t.expose("status", { permission: "ACCOUNTS_READ", type: AccountStatusEnum, description: "The account's own lifecycle status." }),
    createdAt: t.expose("createdAt", { permission: "ACCOUNTS_READ", type: "DateTime", description: "When the account was created." }),
    updatedAt: t.expose("updatedAt", { permission: "ACCOUNTS_READ", type: "DateTime", description: "When the account was last changed." }),
    // Plain SQL, batched per request (read/lists.ts).
    apiKeys: t.connection(
      {
        permission: "ACCOUNTS_READ",
        type: ApiKeyRef,
        description: "The account's API keys, newest first. Revoked keys only with `includeRevoked`.",
        args: {
          includeRevoked: t.arg.boolean({ defaultValue: false, description: "Also list revoked keys." }),
        },
        readsList: API_KEYS,
        resolve: (account, args, ctx, info) =>
          sqlListConnection<{ includeRevoked: boolean }, { includeRevoked?: boolean | null }, ApiKey>(API_KEYS, ctx, info, account.id, args),
      },
      ApiKeyConnection,
    ),
    auditEvents: t.prismaConnection(
      {
        permission: "ACCOUNTS_READ",
        type: AuditEventRef,
        description: "Audit events about this account (for a manager: about it and all its sub-accounts), newest first, whoever acted.",
        cursor: "id",
        // Its events are found by the account's id and kind, which every account row keeps.
        reads: [],
        totalCount: (account) => prisma.auditEvent.count({ where: auditEventsOf(account) }),
        resolve: (query, account) => prisma.auditEvent.findMany({ ...query, where: auditEventsOf(account), orderBy: NEWEST_EVENTS_FIRST }),
      },
      AuditEventConnection,
    ),
    events: t.prismaConnection(
      {
        permission: "EVENTS_READ",
        type: EventRef,
        description:
          "What happened to this account (for a manager: to it and its whole tree, also to purged sub-accounts), newest first. Each event's `data` follows the reader's field rules.",
        cursor: "id",
        args: { types: t.arg({ type: [EventTypeEnum], required: false, description: "Only events of these types (null or empty: every type)." }) },
        reads: [],
        totalCount: (account, args) => prisma.event.count({ where: eventsOf(account, args.types) }),
        resolve: (query, account, args) => prisma.event.findMany({ ...query, where: eventsOf(account, args.types), orderBy: NEWEST_LOGGED_FIRST }),
      },
      EventConnection,
    ),
    usageTriggers: t.prismaConnection(
      {
        permission: "WEBHOOKS_WRITE",
        type: UsageTriggerRef,
        description: "The usage triggers watching this account, newest first.",
        cursor: "id",
        // Its triggers are found by the account's id, which every account row keeps.
        reads: [],
        totalCount: (account) => prisma.usageTrigger.count({ where: { accountId: account.id } }),
        resolve: (query, account) => prisma.usageTrigger.findMany({ ...query, where: { accountId: account.id }, orderBy: NEWEST_FIRST }),
      },
      UsageTriggerConnection,
    ),
    webhookEndpoints: t.prismaConnection(
      {
        permission: "WEBHOOKS_WRITE",
        type: WebhookEndpointRef,
        description: "The account's webhook endpoints, newest first.",
        cursor: "id",
        reads: [],
        totalCount: (account) => prisma.webhookEndpoint.count({ where: { accountId: account.id } }),
        resolve: (query, account) => prisma.webhookEndpoint.findMany({ ...query, where: { accountId: account.id }, orderBy: NEWEST_FIRST }),
      },
      WebhookEndpointConnection,
    ),
  }),
});
