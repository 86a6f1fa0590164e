import type { PrismaModelTypes, PrismaObjectRef } from "@pothos/plugin-prisma";
import { reachableEvents, within } from "../../auth/rowFilters.js";
import { holds } from "../../auth/viewer.js";
import { prisma } from "../../db/client.js";
import type PrismaTypes from "../../generated/pothos-types.js";
import type { Event, Prisma } from "../../generated/prisma/client.js";
import { eventPayloadFor } from "../../services/events.js";
import { AccountRef } from "../accounts/Account.js";
import { type BuilderTypes, builder } from "../builder.js";
import { type SharedConnection, sharedConnection } from "../connections.js";
import { registerNodeLoader } from "../node.js";
import { EventTypeEnum } from "./enums.js";

export const EventRef: PrismaObjectRef<BuilderTypes, PrismaModelTypes & PrismaTypes["Event"], Event> = builder.prismaNode("Event", {
  // Every field that leads to events needs it too (schema/permissionsPlugin.ts).
  extensions: { permission: "EVENTS_READ" },
  description:
    "Something that happened to an account, recorded in the transaction of the change itself. Readable under the same rules as its account: a manager sees its tree's, a sub-account its own.",
  id: { field: "id" },
  findUnique: (id) => ({ id }),
  fields: (t) => ({
    type: t.expose("type", { type: EventTypeEnum, description: "What happened." }),
    occurredAt: t.expose("occurredAt", { type: "DateTime", description: "When the change was committed." }),
    account: t.relation("account", {
      type: AccountRef,
      nullable: true,
      description: "The account it is about; null once that account is purged.",
    }),
    data: t.field({
      type: "JSONObject",
      description:
        "The objects it is about as they were (global ids, Money as exact decimal strings), and `actor`: the role and key prefix that caused it (null when the platform did). Under the reader's field rules: a sub-account's events carry no price, cost, ledger entry, or key prefix of its manager; nor do a manager's read with a key restricted without BILLING_READ.",
      // The payload columns are read whole: which parts a reader gets is decided here.
      reads: ["data", "privilegedData", "actorRole", "actorApiKeyPrefix", "viaActAs"],
      resolve: (event, _args, ctx) => eventPayloadFor(ctx.viewer.role, event, holds(ctx.viewer, "BILLING_READ")),
    }),
  }),
});

registerNodeLoader("Event", "EVENTS_READ", (ids, viewer, query) =>
  prisma.event.findMany({ ...query, where: within<Prisma.EventWhereInput>({ id: { in: ids } }, reachableEvents(viewer)) }),
);

export const EventConnection: SharedConnection = sharedConnection(EventRef, "Event", "events");

/** Newest first; the id breaks ties within a millisecond. */
export const NEWEST_EVENTS_FIRST = [{ occurredAt: "desc" as const }, { id: "desc" as const }];
