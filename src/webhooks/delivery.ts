// The webhook queue, in Postgres, shared by every gateway process:
//
// 1. Dispatch follows the event log in the streams' (txid, id) order (see
//    events/stream.ts: nothing committed late is skipped) and queues one
//    delivery per event and matching endpoint, in one statement that also
//    moves the shared cursor. The cursor row is taken FOR UPDATE SKIP LOCKED,
//    so one process dispatches at a time and none waits for another. Writers
//    (a charge) never pay for webhooks: they only write their event.
// 2. Delivery leases an endpoint (leaseUntil, taken with SKIP LOCKED, renewed
//    before each attempt) and sends its queue in `seq` order, one at a time,
//    so deliveries to one endpoint arrive in order; a failure stops that
//    endpoint's queue until its retry is due (WEBHOOK_RETRY_DELAYS_MS), then
//    FAILED after the last retry. A process that dies mid-delivery loses its
//    lease after LEASE_MS and another sends it again: at least once.
// 3. An endpoint that has failed for three days in a row is disabled, and a
//    WEBHOOK_ENDPOINT_DISABLED event says so.
//
// Why not graphile-worker or pg-boss: both need several connections and
// LISTEN, and the embedded database serves one connection; this queue is
// three statements on the pool, the same on both databases.

import { encodeGlobalID } from "@pothos/plugin-relay";
import { eventSettings } from "../config.js";
import { prisma } from "../db/client.js";
import { runSql } from "../db/sql.js";
import { committedAfter } from "../events/stream.js";
import type { AccountKind, Role } from "../generated/prisma/client.js";
import { logger } from "../observability/logger.js";
import { eventPayloadFor, recordEvent } from "../services/events.js";
import { endpointData } from "../services/webhooks.js";
import { deliver, signedHeaders } from "./outbound.js";

const BATCH = 500;
/** An endpoint's lease: longer than one attempt (10 s at most) with room, renewed before each. */
const LEASE_MS = 20_000;
/** Endpoints one process delivers to at once. */
const CONCURRENT_ENDPOINTS = 8;
const POLL_INTERVAL_MS = 1_000;
/** DOMAIN.md: an endpoint failing for 3 days in a row is disabled. */
export const DISABLE_AFTER_MS = 3 * 24 * 60 * 60 * 1000;

/** Queues the deliveries of the next events of the log; returns how many events it read (0: nothing new, or another process is at it). */
const DISPATCH = `
  WITH cursor AS (
    SELECT "txid", "eventId" FROM "webhook_dispatch_cursor" WHERE "id" = 1 FOR UPDATE SKIP LOCKED
  ), batch AS (
    SELECT e."id", e."txid", e."type", e."accountId", e."treeManagerId", e."occurredAt" FROM "events" e, cursor c
    WHERE ${committedAfter("e", 'c."txid"', 'c."eventId"')}
    ORDER BY e."txid", e."id" LIMIT ${BATCH}
  ), queued AS (
    INSERT INTO "webhook_deliveries" ("id", "endpointId", "eventId")
    SELECT gen_random_uuid(), w."id", b."id" FROM batch b
    JOIN "webhook_endpoints" w ON w."enabled" AND w."createdAt" <= b."occurredAt"
      AND (w."accountId" = b."accountId" OR w."accountId" = b."treeManagerId")
      AND (cardinality(w."eventTypes") = 0 OR b."type" = ANY(w."eventTypes"))
    -- A closed account may see nothing any more (its keys are revoked): its endpoints get nothing either.
    JOIN "accounts" a ON a."id" = w."accountId" AND a."status" <> 'CLOSED'
    ORDER BY b."txid", b."id", w."id"
    RETURNING 1
  ), moved AS (
    UPDATE "webhook_dispatch_cursor" c SET "txid" = last."txid", "eventId" = last."id"
    FROM (SELECT "txid", "id" FROM batch ORDER BY "txid" DESC, "id" DESC LIMIT 1) last
    WHERE c."id" = 1
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM batch)::int AS "events", (SELECT count(*) FROM queued)::int AS "deliveries"`;

/** Leases endpoints whose next delivery is due and that no process holds. */
const CLAIM = `
  UPDATE "webhook_endpoints" w SET "leaseUntil" = now() + make_interval(secs => $1::int / 1000.0)
  WHERE w."id" IN (
    SELECT e."id" FROM "webhook_endpoints" e
    WHERE e."enabled" AND (e."leaseUntil" IS NULL OR e."leaseUntil" < now())
      AND ($3::uuid[] IS NULL OR e."id" = ANY($3::uuid[]))
      AND EXISTS (SELECT 1 FROM "accounts" a WHERE a."id" = e."accountId" AND a."status" <> 'CLOSED')
      AND (SELECT d."nextAttemptAt" FROM "webhook_deliveries" d
           WHERE d."endpointId" = e."id" AND d."status" = 'PENDING' ORDER BY d."seq" LIMIT 1) <= now()
    LIMIT $2 FOR UPDATE SKIP LOCKED
  )
  RETURNING w."id", w."url", w."secret", w."accountId", w."failingSince"`;

/** The next deliveries of an endpoint's queue, in order, with their events and the reading role of the endpoint's account. */
const QUEUE = `
  SELECT d."id", d."attempts", d."nextAttemptAt", e."id" AS "eventId", e."type", e."occurredAt", e."accountId" AS "eventAccountId",
    ea."kind" AS "eventAccountKind", e."data", e."privilegedData", e."actorRole", e."actorApiKeyPrefix", e."viaActAs", a."kind" AS "readerKind",
    w."includesBillingData"
  FROM "webhook_deliveries" d
  JOIN "events" e ON e."id" = d."eventId"
  JOIN "webhook_endpoints" w ON w."id" = d."endpointId"
  JOIN "accounts" a ON a."id" = w."accountId"
  LEFT JOIN "accounts" ea ON ea."id" = e."accountId"
  WHERE d."endpointId" = $1::uuid AND d."status" = 'PENDING'
  ORDER BY d."seq" LIMIT $2`;

/** Deliveries a receiver accepted, written back together; the endpoint's run of failures is over. */
const MARK_SUCCEEDED = `
  WITH done AS (
    UPDATE "webhook_deliveries" d SET "status" = 'SUCCEEDED', "attempts" = d."attempts" + 1, "lastAttemptAt" = v."at",
      "responseStatus" = v."status", "deliveredAt" = v."at", "nextAttemptAt" = NULL
    FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS v("id", "status", "at")
    WHERE d."id" = v."id"
    RETURNING 1
  )
  UPDATE "webhook_endpoints" SET "failingSince" = NULL WHERE "id" = $4::uuid AND "failingSince" IS NOT NULL`;

/** Deliveries read from an endpoint's queue at a time. */
const QUEUE_READ = 50;

interface ClaimedEndpoint {
  id: string;
  url: string;
  secret: string;
  accountId: string;
  failingSince: Date | null;
}

interface QueuedDelivery {
  id: string;
  attempts: number;
  nextAttemptAt: Date | null;
  eventId: string;
  type: string;
  occurredAt: Date;
  eventAccountId: string | null;
  eventAccountKind: AccountKind | null;
  data: unknown;
  privilegedData: unknown;
  actorRole: Role | null;
  actorApiKeyPrefix: string | null;
  viaActAs: boolean;
  readerKind: AccountKind;
  /** False when the key that made or last changed the endpoint lacked BILLING_READ. */
  includesBillingData: boolean;
}

/**
 * The body of a delivery: the event as the endpoint's account may read it
 * (DOMAIN.md: a sub-account's webhook bodies carry no price, cost or ledger
 * entry), and as the key that set the endpoint up could (no privileged part
 * without BILLING_READ), in the shape of the API's Event type.
 */
export function deliveryBody(delivery: QueuedDelivery): string {
  const readerRole: Role = delivery.readerKind === "MANAGER" ? "MANAGER" : "SUB_ACCOUNT";
  const account = delivery.eventAccountId
    ? { id: encodeGlobalID(delivery.eventAccountKind === "MANAGER" ? "Manager" : "SubAccount", delivery.eventAccountId) }
    : null;
  return JSON.stringify({
    id: encodeGlobalID("Event", delivery.eventId),
    type: delivery.type,
    occurredAt: delivery.occurredAt.toISOString(),
    account,
    data: eventPayloadFor(readerRole, delivery, delivery.includesBillingData),
  });
}

export class WebhookDeliverer {
  /**
   * Only these endpoints (database ids), or every one (undefined, what a
   * gateway process runs). Tests that share one Postgres between files use
   * it, so one file's deliverer never takes another file's endpoints, whose
   * retry settings it does not know.
   */
  readonly #only: readonly string[] | null;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: { onlyEndpoints?: readonly string[] } = {}) {
    this.#only = options.onlyEndpoints ?? null;
  }

  /** Starts polling (every process runs one; they share the queue). */
  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.poke(), POLL_INTERVAL_MS);
    this.#timer.unref();
    this.poke();
  }

  /** Stops taking work; resolves once the attempts under way have finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
    await Promise.all(this.#inFlight);
  }

  /** Dispatch and deliver now (events were committed), or right after the round under way. */
  poke(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#round()
      .catch((error) => logger.warn({ err: error }, "webhook round failed; retrying at the next poll"))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.poke();
        }
      });
  }

  async #round(): Promise<void> {
    for (;;) {
      const [row] = await runSql<{ events: number; deliveries: number }>(DISPATCH, []);
      if (!row || row.events < BATCH) break;
    }
    const room = CONCURRENT_ENDPOINTS - this.#inFlight.size;
    if (room <= 0 || this.#stopped) return;
    const claimed = await runSql<ClaimedEndpoint>(CLAIM, [LEASE_MS, room, this.#only]);
    for (const endpoint of claimed) {
      const work = this.#drain(endpoint)
        .catch((error) => logger.warn({ err: error, endpoint: endpoint.id }, "webhook delivery failed unexpectedly"))
        .finally(() => {
          this.#inFlight.delete(work);
          void prisma.webhookEndpoint.updateMany({ where: { id: endpoint.id }, data: { leaseUntil: null } }).catch(() => {});
          // Its queue may hold more that is due, or others may be waiting for room.
          this.poke();
        });
      this.#inFlight.add(work);
    }
  }

  /**
   * Sends an endpoint's due deliveries in order until its queue is empty, a
   * retry is not due yet, or the process stops. The queue is read QUEUE_READ
   * at a time and successes are written back together (SUCCEEDED), so a busy
   * endpoint costs a few statements per batch rather than per event; a crash
   * before that write sends those again (at least once). The lease is renewed
   * whenever half of it has passed.
   */
  async #drain(endpoint: ClaimedEndpoint): Promise<void> {
    const { webhookAllowInsecure, webhookRetryDelaysMs } = eventSettings();
    let failingSince = endpoint.failingSince;
    let leasedAt = Date.now();
    const succeeded: { id: string; status: number; at: Date }[] = [];
    const flush = async () => {
      if (!succeeded.length) return;
      await runSql(MARK_SUCCEEDED, [succeeded.map((d) => d.id), succeeded.map((d) => d.status), succeeded.map((d) => d.at), endpoint.id]);
      succeeded.length = 0;
      failingSince = null;
    };
    try {
      while (!this.#stopped) {
        const queue = await runSql<QueuedDelivery>(QUEUE, [endpoint.id, QUEUE_READ]);
        if (!queue.length) return;
        for (const delivery of queue) {
          // Only the head can be waiting for a retry; what follows it waits behind it.
          if (this.#stopped || (delivery.nextAttemptAt && delivery.nextAttemptAt.getTime() > Date.now())) return;
          if (Date.now() - leasedAt > LEASE_MS / 2) {
            // An endpoint deleted or disabled meanwhile is left alone.
            const renewed = await prisma.webhookEndpoint.updateMany({
              where: { id: endpoint.id, enabled: true },
              data: { leaseUntil: new Date(Date.now() + LEASE_MS) },
            });
            if (!renewed.count) return;
            leasedAt = Date.now();
          }
          const body = deliveryBody(delivery);
          const headers = signedHeaders(endpoint.secret, encodeGlobalID("Event", delivery.eventId), new Date(), body);
          const outcome = await deliver({ url: endpoint.url, body, headers }, { allowInsecure: webhookAllowInsecure });
          const now = new Date();
          if (outcome.ok) {
            succeeded.push({ id: delivery.id, status: outcome.status ?? 200, at: now });
            continue;
          }
          await flush();
          const attempts = delivery.attempts + 1;
          const delay = webhookRetryDelaysMs[attempts - 1];
          failingSince ??= now;
          await prisma.$transaction([
            prisma.webhookDelivery.updateMany({
              where: { id: delivery.id },
              data: {
                status: delay === undefined ? "FAILED" : "PENDING",
                attempts,
                lastAttemptAt: now,
                responseStatus: outcome.status,
                nextAttemptAt: delay === undefined ? null : new Date(now.getTime() + delay),
              },
            }),
            prisma.webhookEndpoint.updateMany({ where: { id: endpoint.id }, data: { failingSince } }),
          ]);
          if (now.getTime() - failingSince.getTime() >= DISABLE_AFTER_MS) {
            await this.#disable(endpoint.id, failingSince);
            return;
          }
          // FAILED for good: the next delivery may go. Otherwise the queue waits for this one's retry.
          if (delay !== undefined) return;
        }
        await flush();
        if (queue.length < QUEUE_READ) return;
      }
    } finally {
      await flush();
    }
  }

  /** Disables an endpoint that has failed for three days, with the event that says so. */
  async #disable(endpointId: string, failingSince: Date): Promise<void> {
    await prisma.$transaction(async (tx) => {
      const disabled = await tx.webhookEndpoint.update({
        where: { id: endpointId },
        data: { enabled: false, disabledAt: new Date() },
        include: { account: { select: { id: true, kind: true, managerId: true } } },
      });
      await recordEvent(tx, null, disabled.account, {
        type: "WEBHOOK_ENDPOINT_DISABLED",
        data: {
          endpoint: endpointData(disabled),
          failingSince: failingSince.toISOString(),
        },
      });
    });
    logger.warn({ endpoint: endpointId }, "webhook endpoint disabled after failing for 3 days");
  }
}

/** The process's deliverer (server.ts starts it). */
export const webhookDeliverer = new WebhookDeliverer();

/** For tests and scripts: one dispatch pass; the deliveries it queued. */
export async function dispatchOnce(): Promise<number> {
  const [row] = await runSql<{ events: number; deliveries: number }>(DISPATCH, []);
  return row?.deliveries ?? 0;
}
