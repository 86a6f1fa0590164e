import * as E from "../../domain/errors.js";
import * as webhooks from "../../services/webhooks.js";
import { builder } from "../builder.js";
import { EventTypeEnum } from "../events/enums.js";
import { decodeAccountRef, decodeIdOrThrow } from "../globalIds.js";
import { defineMutation, sharedResult } from "../mutation.js";
import { WebhookDeliveryRef, WebhookEndpointRef } from "./WebhookEndpoint.js";

const CreateWebhookEndpointInput = builder.inputType("CreateWebhookEndpointInput", {
  description: "A new webhook endpoint for an account.",
  fields: (t) => ({
    accountId: t.id({ required: true, description: "The account (Manager or SubAccount) whose events it receives." }),
    url: t.field({
      type: "URL",
      required: true,
      description: "Where to POST events: https, to a public address (http and loopback only with WEBHOOK_ALLOW_INSECURE).",
    }),
    eventTypes: t.field({ type: [EventTypeEnum], required: false, description: "The event types to receive; none or empty: every type." }),
    description: t.string({ required: false, description: "What it is for, up to 500 characters." }),
  }),
});

const CreateWebhookEndpointSuccess = builder.objectRef<{ endpoint: object; signingSecret: string }>("CreateWebhookEndpointSuccess").implement({
  description: "The new endpoint and its signing secret.",
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, permission: "WEBHOOKS_WRITE", description: "The new endpoint.", resolve: (r) => r.endpoint as never }),
    signingSecret: t.exposeString("signingSecret", {
      description: "The Standard Webhooks secret (`whsec_...`) the deliveries are signed with; verify with any Standard Webhooks library. Shown this once.",
    }),
  }),
});

defineMutation("createWebhookEndpoint", {
  action: "webhookEndpoint:create",
  description: "Create a webhook endpoint: for an account the caller reaches (a sub-account: itself). Deliveries start with the events committed after it.",
  input: CreateWebhookEndpointInput,
  result: sharedResult(
    "CreateWebhookEndpoint",
    CreateWebhookEndpointSuccess,
    [E.NotFoundError, E.ForbiddenError, E.ValidationError, E.LimitExceededError, E.AccountNotActiveError],
    "The result of createWebhookEndpoint.",
  ),
  resolve: (input, ctx) =>
    webhooks.createWebhookEndpoint(ctx.viewer, decodeAccountRef(String(input.accountId)), {
      url: String(input.url),
      eventTypes: input.eventTypes,
      description: input.description,
    }),
});

const UpdateWebhookEndpointInput = builder.inputType("UpdateWebhookEndpointInput", {
  description: "Changes to a webhook endpoint; fields left out stay as they are.",
  fields: (t) => ({
    id: t.id({ required: true, description: "The endpoint's global id." }),
    url: t.field({ type: "URL", required: false, description: "A new URL (checked like at creation)." }),
    eventTypes: t.field({ type: [EventTypeEnum], required: false, description: "The event types to receive; empty: every type." }),
    description: t.string({ required: false, description: "A new description; null clears it." }),
    enabled: t.boolean({ required: false, description: "False pauses deliveries; true resumes them where they stopped." }),
  }),
});

const UpdateWebhookEndpointSuccess = builder.objectRef<object>("UpdateWebhookEndpointSuccess").implement({
  description: "The endpoint as changed.",
  fields: (t) => ({ endpoint: t.field({ type: WebhookEndpointRef, permission: "WEBHOOKS_WRITE", description: "The endpoint.", resolve: (e) => e as never }) }),
});

defineMutation("updateWebhookEndpoint", {
  action: "webhookEndpoint:update",
  description: "Change a webhook endpoint's URL, event types, description or enabled state.",
  input: UpdateWebhookEndpointInput,
  result: sharedResult(
    "UpdateWebhookEndpoint",
    UpdateWebhookEndpointSuccess,
    [E.NotFoundError, E.ForbiddenError, E.ValidationError],
    "The result of updateWebhookEndpoint.",
  ),
  resolve: (input, ctx) =>
    webhooks.updateWebhookEndpoint(ctx.viewer, decodeIdOrThrow(String(input.id), ["WebhookEndpoint"], "The webhook endpoint").id, {
      url: input.url == null ? input.url : String(input.url),
      eventTypes: input.eventTypes,
      description: input.description,
      enabled: input.enabled,
    }),
});

const DeleteWebhookEndpointInput = builder.inputType("DeleteWebhookEndpointInput", {
  description: "The endpoint to delete.",
  fields: (t) => ({ id: t.id({ required: true, description: "The endpoint's global id." }) }),
});

const DeleteWebhookEndpointSuccess = builder.objectRef<{ deletedId: string }>("DeleteWebhookEndpointSuccess").implement({
  description: "The endpoint is gone, with its deliveries.",
  fields: (t) => ({ deletedId: t.exposeID("deletedId", { description: "The deleted endpoint's global id." }) }),
});

defineMutation("deleteWebhookEndpoint", {
  action: "webhookEndpoint:delete",
  description: "Delete a webhook endpoint and its deliveries (pending ones are not sent).",
  input: DeleteWebhookEndpointInput,
  result: sharedResult("DeleteWebhookEndpoint", DeleteWebhookEndpointSuccess, [E.NotFoundError, E.ForbiddenError], "The result of deleteWebhookEndpoint."),
  resolve: (input, ctx) => webhooks.deleteWebhookEndpoint(ctx.viewer, decodeIdOrThrow(String(input.id), ["WebhookEndpoint"], "The webhook endpoint").id),
});

const RedeliverWebhookEventInput = builder.inputType("RedeliverWebhookEventInput", {
  description: "An event to send to an endpoint once more.",
  fields: (t) => ({
    endpointId: t.id({ required: true, description: "The endpoint's global id." }),
    eventId: t.id({ required: true, description: "The event's global id: one the endpoint's account may see." }),
  }),
});

const RedeliverWebhookEventSuccess = builder.objectRef<object>("RedeliverWebhookEventSuccess").implement({
  description: "The new delivery, queued at the end of the endpoint's queue.",
  fields: (t) => ({
    delivery: t.field({ type: WebhookDeliveryRef, permission: "WEBHOOKS_WRITE", description: "The queued delivery.", resolve: (d) => d as never }),
  }),
});

defineMutation("redeliverWebhookEvent", {
  action: "webhookEvent:redeliver",
  description: "Send an event to an endpoint again (e.g. after fixing a receiver), as a new delivery at the end of its queue.",
  input: RedeliverWebhookEventInput,
  result: sharedResult(
    "RedeliverWebhookEvent",
    RedeliverWebhookEventSuccess,
    [E.NotFoundError, E.ForbiddenError, E.ValidationError],
    "The result of redeliverWebhookEvent.",
  ),
  resolve: (input, ctx) =>
    webhooks.redeliverWebhookEvent(
      ctx.viewer,
      decodeIdOrThrow(String(input.endpointId), ["WebhookEndpoint"], "The webhook endpoint").id,
      decodeIdOrThrow(String(input.eventId), ["Event"], "The event").id,
    ),
});
