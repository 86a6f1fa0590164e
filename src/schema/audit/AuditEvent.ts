import type { PrismaModelTypes, PrismaObjectRef } from "@pothos/plugin-prisma";
import type PrismaTypes from "../../generated/pothos-types.js";
import type { AuditEvent } from "../../generated/prisma/client.js";
import { AccountRef } from "../accounts/Account.js";
import { type BuilderTypes, builder } from "../builder.js";
import { type SharedConnection, sharedConnection } from "../connections.js";
import { RoleEnum } from "../enums.js";

export const AuditEventRef: PrismaObjectRef<BuilderTypes, PrismaModelTypes & PrismaTypes["AuditEvent"], AuditEvent> = builder.prismaNode("AuditEvent", {
  description: "A record of one successful change: what was done, by whom, to which account, when.",
  extensions: { permission: "ACCOUNTS_READ" },
  id: { field: "id" },
  findUnique: (id) => ({ id }),
  fields: (t) => ({
    action: t.exposeString("action", { description: 'What was done, e.g. "subAccount.suspend", "apiKey.create".' }),
    actorRole: t.expose("actorRole", { type: RoleEnum, description: "Role of the caller that made the change." }),
    actorApiKeyPrefix: t.string({
      nullable: true,
      description:
        "Prefix of the API key that made the change; null for the operator, and null for a sub-account reading an event its manager caused (the manager's keys are not its data).",
      resolve: (event, _args, ctx) => (ctx.viewer.role === "SUB_ACCOUNT" && event.actorRole !== "SUB_ACCOUNT" ? null : event.actorApiKeyPrefix),
    }),
    account: t.relation("account", {
      type: AccountRef,
      nullable: true,
      description: "The account acted upon; null once it is purged.",
    }),
    viaActAs: t.exposeBoolean("viaActAs", {
      description: "The change was made by a manager (or the operator) acting as this sub-account; actorRole and the key prefix are the caller's.",
    }),
    occurredAt: t.expose("occurredAt", { type: "DateTime", description: "When the change was committed." }),
  }),
});

export const AuditEventConnection: SharedConnection = sharedConnection(AuditEventRef, "AuditEvent", "audit events");

export const NEWEST_EVENTS_FIRST = [{ occurredAt: "desc" as const }, { id: "desc" as const }];
