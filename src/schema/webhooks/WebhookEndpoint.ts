import type { PrismaModelTypes, PrismaObjectRef } from "@pothos/plugin-prisma";
import { reachableWebhookDeliveries, reachableWebhookEndpoints, within } from "../../auth/rowFilters.js";
import { prisma } from "../../db/client.js";
import type PrismaTypes from "../../generated/pothos-types.js";
import type { Prisma, WebhookDelivery, WebhookEndpoint } from "../../generated/prisma/client.js";
import { ownerAccountOf } from "../../read/accounts.js";
import { AccountRef } from "../accounts/Account.js";
import { type BuilderTypes, builder } from "../builder.js";
import { NEWEST_FIRST, type SharedConnection, sharedConnection } from "../connections.js";
import { EventRef } from "../events/Event.js";
import { EventTypeEnum } from "../events/enums.js";
import { registerNodeLoader } from "../node.js";

export const WebhookDeliveryStatusEnum = builder.enumType("WebhookDeliveryStatus", {
  description: "Where a delivery stands.",
  values: {
    PENDING: { description: "Queued, or failed and waiting for its next attempt." },
    SUCCEEDED: { description: "The receiver answered 2xx within 10 seconds." },
    FAILED: { description: "Every attempt of the retry schedule failed (about 27 hours); `redeliverWebhookEvent` queues it again." },
  } as const,
});

export const WebhookDeliveryRef: PrismaObjectRef<BuilderTypes, PrismaModelTypes & PrismaTypes["WebhookDelivery"], WebhookDelivery> = builder.prismaNode(
  "WebhookDelivery",
  {
    description: "One event sent (or to be sent) to one endpoint, with its attempts.",
    extensions: { permission: "WEBHOOKS_WRITE" },
    id: { field: "id" },
    findUnique: (id) => ({ id }),
    fields: (t) => ({
      endpoint: t.relation("endpoint", { permission: "WEBHOOKS_WRITE", type: WebhookEndpointRef, description: "Where it goes." }),
      event: t.relation("event", {
        permission: "EVENTS_READ",
        type: EventRef,
        description: "What it carries: the event as the endpoint's account may read it.",
      }),
      status: t.expose("status", { type: WebhookDeliveryStatusEnum, description: "Where it stands." }),
      attempts: t.exposeInt("attempts", { description: "Requests sent so far." }),
      lastAttemptAt: t.expose("lastAttemptAt", { type: "DateTime", nullable: true, description: "When the last request was sent." }),
      responseStatus: t.exposeInt("responseStatus", {
        nullable: true,
        description: "The receiver's last HTTP status; null when it could not be reached (refused address, timeout, connection failure).",
      }),
      nextAttemptAt: t.expose("nextAttemptAt", { type: "DateTime", nullable: true, description: "When the next attempt is due; null once settled." }),
      deliveredAt: t.expose("deliveredAt", { type: "DateTime", nullable: true, description: "When a receiver accepted it (2xx)." }),
      createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was queued." }),
    }),
  },
);

export const WebhookDeliveryConnection: SharedConnection = sharedConnection(WebhookDeliveryRef, "WebhookDelivery", "webhook deliveries");

export const WebhookEndpointRef: PrismaObjectRef<BuilderTypes, PrismaModelTypes & PrismaTypes["WebhookEndpoint"], WebhookEndpoint> = builder.prismaNode(
  "WebhookEndpoint",
  {
    description:
      "A URL that receives the events its account may see, of the chosen types, as signed POSTs (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once and in order.",
    // There is no WEBHOOKS_READ: the permission that manages endpoints reads them (and their deliveries).
    extensions: { permission: "WEBHOOKS_WRITE" },
    id: { field: "id" },
    findUnique: (id) => ({ id }),
    fields: (t) => ({
      account: t.field({
        type: AccountRef,
        description: "The account whose events it receives (a manager's: its whole tree).",
        reads: ["accountId"],
        resolve: ownerAccountOf,
      }),
      url: t.field({ type: "URL", description: "Where events are POSTed (https; http and loopback only with WEBHOOK_ALLOW_INSECURE).", resolve: (e) => e.url }),
      description: t.exposeString("description", { nullable: true, description: "What it is for." }),
      eventTypes: t.field({
        type: [EventTypeEnum],
        description: "The event types it receives; empty: every type.",
        resolve: (e) => e.eventTypes,
      }),
      enabled: t.exposeBoolean("enabled", {
        description: "False once disabled (by a change, or after failing for 3 days): nothing is sent until enabled again.",
      }),
      includesBillingData: t.exposeBoolean("includesBillingData", {
        description:
          "Whether a manager's deliveries carry events' prices, costs and ledger entries: false when the API key that created it, or last changed it, lacked BILLING_READ (a sub-account's never do).",
      }),
      disabledAt: t.expose("disabledAt", { type: "DateTime", nullable: true, description: "When it was disabled." }),
      createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
      deliveries: t.prismaConnection(
        {
          permission: "WEBHOOKS_WRITE",
          type: WebhookDeliveryRef,
          description: "Its deliveries, newest first, with their attempts.",
          cursor: "id",
          args: { status: t.arg({ type: WebhookDeliveryStatusEnum, required: false, description: "Only deliveries with this status." }) },
          reads: [],
          totalCount: (endpoint, args) => prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, ...(args.status && { status: args.status }) } }),
          resolve: (query, endpoint, args) =>
            prisma.webhookDelivery.findMany({
              ...query,
              where: { endpointId: endpoint.id, ...(args.status && { status: args.status }) },
              orderBy: NEWEST_FIRST,
            }),
        },
        WebhookDeliveryConnection,
      ),
    }),
  },
);

export const WebhookEndpointConnection: SharedConnection = sharedConnection(WebhookEndpointRef, "WebhookEndpoint", "webhook endpoints");

registerNodeLoader("WebhookEndpoint", "WEBHOOKS_WRITE", (ids, viewer, query) =>
  prisma.webhookEndpoint.findMany({ ...query, where: within<Prisma.WebhookEndpointWhereInput>({ id: { in: ids } }, reachableWebhookEndpoints(viewer)) }),
);
registerNodeLoader("WebhookDelivery", "WEBHOOKS_WRITE", (ids, viewer, query) =>
  prisma.webhookDelivery.findMany({ ...query, where: within<Prisma.WebhookDeliveryWhereInput>({ id: { in: ids } }, reachableWebhookDeliveries(viewer)) }),
);
