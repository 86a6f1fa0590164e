import { prisma } from "../db/client.js";
import { PURGE_AFTER_MS } from "../domain/lifecycle.js";

/**
 * Deletes sub-accounts closed more than 30 days before `now` whose manager
 * has auto-delete on, with their data (keys, numbers, usage, own ledger,
 * idempotency keys cascade). Ledger entries on the manager's balance and
 * audit events survive with their account set to null.
 */
export async function purgeClosedSubAccounts(now = new Date()): Promise<{ purged: number }> {
  const cutoff = new Date(now.getTime() - PURGE_AFTER_MS);
  const result = await prisma.account.deleteMany({
    where: {
      kind: "SUB_ACCOUNT",
      status: "CLOSED",
      closedAt: { lte: cutoff },
      manager: { autoDeleteClosedSubAccounts: true },
    },
  });
  return { purged: result.count };
}

const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** Runs the purge now and then hourly inside the server; returns a stopper. */
export function startPurgeSchedule(intervalMs = PURGE_INTERVAL_MS): () => void {
  const run = () =>
    purgeClosedSubAccounts().then(
      ({ purged }) => purged && console.log(JSON.stringify({ level: "info", time: new Date().toISOString(), message: "purged closed sub-accounts", purged })),
      (error) => console.error(JSON.stringify({ level: "error", time: new Date().toISOString(), message: "purge failed", error: String(error) })),
    );
  const first = setTimeout(run, 5_000);
  const timer = setInterval(run, intervalMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
