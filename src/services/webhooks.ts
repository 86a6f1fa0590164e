// Webhook endpoints: an account's URLs that receive the events it may see
// (DOMAIN.md "Events and webhooks"). The queue and the sending are in
// src/webhooks/; this module is what the API changes.

import { encodeGlobalID } from "@pothos/plugin-relay";
import { assertMayPerform } from "../auth/actions.js";
import { reachableWebhookEndpoints, within } from "../auth/rowFilters.js";
import { holds, type Viewer } from "../auth/viewer.js";
import { eventSettings } from "../config.js";
import { AccountNotActiveError, LimitExceededError, NotFoundError, ValidationError } from "../domain/errors.js";
import { InputChecker } from "../domain/text.js";
import type { EventType, Prisma, WebhookEndpoint } from "../generated/prisma/client.js";
import { checkWebhookUrl, generateSigningSecret } from "../webhooks/outbound.js";
import { findReachableAccount } from "./accounts.js";
import { recordAudit } from "./audit.js";

import type { AccountRef } from "./ids.js";
import { inTransaction, lockReachableAccount } from "./transactions.js";

/** Endpoints per account: enough for staging, production and a few integrations. */
export const MAX_ENDPOINTS_PER_ACCOUNT = 16;
const DESCRIPTION_MAX_LENGTH = 500;
const URL_MAX_LENGTH = 2048;

/** An endpoint as events show it: never its secret. */
export function endpointData(endpoint: Pick<WebhookEndpoint, "id" | "url" | "description" | "eventTypes" | "enabled">) {
  return {
    id: encodeGlobalID("WebhookEndpoint", endpoint.id),
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: endpoint.eventTypes,
    enabled: endpoint.enabled,
  };
}

/** The URL as it will be called, or a ValidationError saying why not (https only, no private or loopback target: outbound.ts). */
async function checkedUrl(url: string): Promise<string> {
  if (url.length > URL_MAX_LENGTH) throw ValidationError.of("url", `must be at most ${URL_MAX_LENGTH} characters`);
  const verdict = await checkWebhookUrl(url, { allowInsecure: eventSettings().webhookAllowInsecure });
  if (!verdict.ok) throw ValidationError.of("url", verdict.reason);
  return verdict.url.toString();
}

function checkedDescription(description: string | null | undefined): string | null | undefined {
  const check = new InputChecker();
  const value = check.name(description, "description", DESCRIPTION_MAX_LENGTH);
  check.done();
  return description === null ? null : value;
}

export interface CreateWebhookEndpointInput {
  url: string;
  eventTypes?: readonly EventType[] | null;
  description?: string | null;
}

/**
 * A new endpoint on a reachable account that is not closed, with a new
 * signing secret, returned this once. The URL is checked now (and again at
 * every delivery: a name may resolve elsewhere later).
 */
export async function createWebhookEndpoint(viewer: Viewer, accountRef: AccountRef, input: CreateWebhookEndpointInput) {
  assertMayPerform(viewer, "webhookEndpoint:create");
  const description = checkedDescription(input.description);
  const url = await checkedUrl(input.url);
  const signingSecret = generateSigningSecret();
  const endpoint = await inTransaction(async (tx) => {
    await lockReachableAccount(tx, viewer, accountRef.id, accountRef.kind);
    const account = await findReachableAccount(tx, viewer, accountRef.id, accountRef.kind);
    if (account.status === "CLOSED") throw new AccountNotActiveError("CLOSED");
    const count = await tx.webhookEndpoint.count({ where: { accountId: account.id } });
    if (count >= MAX_ENDPOINTS_PER_ACCOUNT) {
      throw new LimitExceededError(`An account can have at most ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints`, MAX_ENDPOINTS_PER_ACCOUNT);
    }
    const created = await tx.webhookEndpoint.create({
      data: {
        accountId: account.id,
        url,
        description: description ?? null,
        eventTypes: [...new Set(input.eventTypes ?? [])],
        secret: signingSecret,
        // A key without BILLING_READ does not set up a feed of prices and costs.
        includesBillingData: holds(viewer, "BILLING_READ"),
      },
    });
    await recordAudit(tx, viewer, {
      action: "webhookEndpoint.create",
      account,
      details: { webhookEndpointId: created.id, url },
      event: { type: "WEBHOOK_ENDPOINT_CREATED", data: { endpoint: endpointData(created) } },
    });
    return created;
  });
  return { endpoint, signingSecret };
}

/** A reachable endpoint with its account, for a change; NotFoundError otherwise (out of reach looks missing). */
async function findReachableEndpoint(tx: Prisma.TransactionClient, viewer: Viewer, id: string) {
  const endpoint = await tx.webhookEndpoint.findFirst({
    where: within<Prisma.WebhookEndpointWhereInput>({ id }, reachableWebhookEndpoints(viewer)),
    include: { account: true },
  });
  if (!endpoint) throw new NotFoundError("The webhook endpoint");
  return endpoint;
}

export interface UpdateWebhookEndpointInput {
  url?: string | null;
  eventTypes?: readonly EventType[] | null;
  description?: string | null;
  enabled?: boolean | null;
}

/** Changes an endpoint; enabling a disabled one resumes its queue where it stopped. Unchanged input writes nothing. */
export async function updateWebhookEndpoint(viewer: Viewer, id: string, input: UpdateWebhookEndpointInput) {
  assertMayPerform(viewer, "webhookEndpoint:update");
  const description = checkedDescription(input.description);
  const url = input.url == null ? undefined : await checkedUrl(input.url);
  return inTransaction(async (tx) => {
    const endpoint = await findReachableEndpoint(tx, viewer, id);
    const data: Prisma.WebhookEndpointUpdateInput = {};
    if (url !== undefined && url !== endpoint.url) data.url = url;
    if (input.eventTypes != null) data.eventTypes = [...new Set(input.eventTypes)];
    if (input.description !== undefined && description !== endpoint.description) data.description = description ?? null;
    if (input.enabled != null && input.enabled !== endpoint.enabled) {
      data.enabled = input.enabled;
      data.disabledAt = input.enabled ? null : new Date();
      data.failingSince = null;
    }
    if (!Object.keys(data).length) return endpoint;
    // The endpoint now sends what the key that last changed it may read.
    const includesBillingData = holds(viewer, "BILLING_READ");
    if (includesBillingData !== endpoint.includesBillingData) data.includesBillingData = includesBillingData;
    const updated = await tx.webhookEndpoint.update({ where: { id }, data });
    await recordAudit(tx, viewer, {
      action: "webhookEndpoint.update",
      account: endpoint.account,
      details: { webhookEndpointId: id, fields: Object.keys(data) },
      event: { type: "WEBHOOK_ENDPOINT_UPDATED", data: { endpoint: endpointData(updated), changedFields: Object.keys(data) } },
    });
    return updated;
  });
}

/** Deletes an endpoint and its deliveries (pending ones are dropped). */
export async function deleteWebhookEndpoint(viewer: Viewer, id: string): Promise<{ deletedId: string }> {
  assertMayPerform(viewer, "webhookEndpoint:delete");
  return inTransaction(async (tx) => {
    const endpoint = await findReachableEndpoint(tx, viewer, id);
    await tx.webhookEndpoint.delete({ where: { id } });
    await recordAudit(tx, viewer, {
      action: "webhookEndpoint.delete",
      account: endpoint.account,
      details: { webhookEndpointId: id },
      event: { type: "WEBHOOK_ENDPOINT_DELETED", data: { endpoint: endpointData(endpoint) } },
    });
    return { deletedId: encodeGlobalID("WebhookEndpoint", id) };
  });
}

/**
 * Queues one more delivery of an event to an endpoint, at the end of its
 * queue: an event the endpoint's account may see (else NotFoundError, as
 * for a missing one), to an endpoint that is enabled (else ValidationError).
 */
export async function redeliverWebhookEvent(viewer: Viewer, endpointId: string, eventId: string) {
  assertMayPerform(viewer, "webhookEvent:redeliver");
  return inTransaction(async (tx) => {
    const endpoint = await findReachableEndpoint(tx, viewer, endpointId);
    const event = await tx.event.findFirst({
      where: { id: eventId, OR: [{ accountId: endpoint.accountId }, { treeManagerId: endpoint.accountId }] },
      select: { id: true },
    });
    if (!event) throw new NotFoundError("The event");
    if (!endpoint.enabled) throw ValidationError.of("endpointId", "The endpoint is disabled; enable it first");
    const delivery = await tx.webhookDelivery.create({ data: { endpointId, eventId } });
    await recordAudit(tx, viewer, {
      action: "webhookEvent.redeliver",
      account: endpoint.account,
      details: { webhookEndpointId: endpointId, eventId, webhookDeliveryId: delivery.id },
      event: null,
    });
    return delivery;
  });
}
