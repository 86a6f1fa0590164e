import { actorOf, type Viewer } from "../auth/viewer.js";
import type { Tx } from "../db/client.js";
import { type EventSubject, type NewEvent, recordEvent } from "./events.js";

/** One change as the audit trail and the event log record it. */
export interface AuditedChange {
  /** What was done, e.g. "subAccount.suspend". */
  action: string;
  /** The account whose resource changed (DOMAIN.md "Audit"). */
  account: EventSubject;
  details?: Record<string, unknown>;
  /**
   * The event the change publishes (DOMAIN.md: every change that writes an
   * audit event writes an event): required here, so that no audited change
   * can leave it out by accident. `null` says, at the call, that the change
   * is no news about the account (a redelivery of a webhook).
   */
  event: NewEvent | null;
}

/**
 * Writes the audit event and the event of one change in the caller's
 * transaction, so both exist exactly when the change they record does.
 */
export async function recordAudit(tx: Tx, viewer: Viewer, { action, account, details, event }: AuditedChange): Promise<void> {
  await tx.auditEvent.create({
    data: {
      action,
      ...actorOf(viewer),
      accountId: account.id,
      treeManagerId: account.kind === "MANAGER" ? account.id : account.managerId,
      details: (details ?? undefined) as never,
    },
  });
  if (event) await recordEvent(tx, viewer, account, event);
}
