import { eventSettings } from "../config.js";
import { prisma } from "../db/client.js";
import { PURGE_AFTER_MS } from "../domain/lifecycle.js";
import { eventsCommitted } from "../events/wakeups.js";
import type { Account } from "../generated/prisma/client.js";
import { logger } from "../observability/logger.js";
import { accountData } from "./events.js";
import { inTransaction } from "./transactions.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes sub-accounts closed more than 30 days before `now` whose manager
 * has auto-delete on, with their data (keys, numbers, usage, own ledger,
 * idempotency keys cascade). Ledger entries on the manager's balance, audit
 * events and events survive with their account set to null; each purge is a
 * SUB_ACCOUNT_PURGED event in the manager's tree, written in the same
 * transaction as the deletion.
 */
export async function purgeClosedSubAccounts(now = new Date()): Promise<{ purged: number }> {
  const cutoff = new Date(now.getTime() - PURGE_AFTER_MS);
  return inTransaction(async (tx) => {
    // Locked, and skipped when a concurrent purge holds them, so each purge is one event.
    const doomed = await tx.$queryRaw<Pick<Account, "id" | "kind" | "managerId" | "email" | "organizationName" | "status" | "closedAt">[]>`
      SELECT a."id", a."kind", a."managerId", a."email", a."organizationName", a."status", a."closedAt"
      FROM "accounts" a JOIN "accounts" m ON m."id" = a."managerId"
      WHERE a."kind" = 'SUB_ACCOUNT' AND a."status" = 'CLOSED' AND a."closedAt" <= ${cutoff} AND m."autoDeleteClosedSubAccounts"
      FOR UPDATE OF a SKIP LOCKED`;
    if (!doomed.length) return { purged: 0 };
    await tx.event.createMany({
      data: doomed.map((sub) => ({
        type: "SUB_ACCOUNT_PURGED" as const,
        accountId: sub.id,
        treeManagerId: sub.managerId,
        data: { subAccount: accountData(sub), closedAt: sub.closedAt?.toISOString() ?? null },
        privilegedData: {},
      })),
    });
    const result = await tx.account.deleteMany({ where: { id: { in: doomed.map((sub) => sub.id) }, status: "CLOSED" } });
    return { purged: result.count };
  });
}

/** Deletes events older than the retention (EVENT_RETENTION_DAYS, at least 30 days). */
export async function deleteExpiredEvents(now = new Date(), retentionDays = eventSettings().retentionDays): Promise<{ deleted: number }> {
  const result = await prisma.event.deleteMany({ where: { occurredAt: { lt: new Date(now.getTime() - retentionDays * DAY_MS) } } });
  return { deleted: result.count };
}

const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** Runs the purge and the event cleanup now and then hourly inside the server; returns a stopper. */
export function startPurgeSchedule(intervalMs = PURGE_INTERVAL_MS): () => void {
  const run = async () => {
    try {
      const { purged } = await purgeClosedSubAccounts();
      if (purged) {
        logger.info({ purged }, "purged closed sub-accounts");
        eventsCommitted();
      }
      const { deleted } = await deleteExpiredEvents();
      if (deleted) logger.info({ deleted }, "deleted events past their retention");
    } catch (error) {
      logger.error({ err: error }, "purge failed");
    }
  };
  const first = setTimeout(run, 5_000);
  const timer = setInterval(run, intervalMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
