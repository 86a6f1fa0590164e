import type { Viewer } from "../auth/viewer.js";
import type { Tx } from "../db/client.js";

/**
 * Writes one audit event in the caller's transaction, so the event exists
 * exactly when the change it records does.
 */
export async function recordAudit(
  tx: Tx,
  viewer: Viewer,
  action: string,
  account: { id: string; kind: "MANAGER" | "SUB_ACCOUNT"; managerId: string | null },
  details?: Record<string, unknown>,
): Promise<void> {
  await tx.auditEvent.create({
    data: {
      action,
      actorRole: viewer.role,
      actorApiKeyPrefix: viewer.role === "OPERATOR" ? null : viewer.apiKey.prefix,
      accountId: account.id,
      treeManagerId: account.kind === "MANAGER" ? account.id : account.managerId,
      details: (details ?? undefined) as never,
    },
  });
}
