import { reachableAccountsSql, reachableAccountsSqlValues } from "../auth/rowFilters.js";
import type { Viewer } from "../auth/viewer.js";
import { prisma, type Tx } from "../db/client.js";
import { ConflictError } from "../domain/errors.js";
import { Prisma } from "../generated/prisma/client.js";
import type { AccountKind } from "./ids.js";

/**
 * Runs `work` in one interactive transaction. The embedded database serves
 * one transaction at a time, so the wait for a connection is generous.
 */
export function inTransaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
  return prisma.$transaction(work, { maxWait: 60_000, timeout: 60_000 });
}

/**
 * Locks an account row until the transaction ends (serialises changes to it).
 * NO KEY UPDATE, not UPDATE: it still excludes every other lock and update of
 * the row, but not the KEY SHARE lock that inserting a row which references
 * the account takes (an audit event's tree manager, a ledger entry). With
 * FOR UPDATE, a transaction holding a sub-account and inserting an event
 * about its manager deadlocks with one holding the manager and waiting for
 * the sub-account (seen with concurrent transfers and charges on Postgres).
 */
export async function lockAccount(tx: Tx, accountId: string): Promise<void> {
  await tx.$executeRaw`SELECT 1 FROM "accounts" WHERE "id" = ${accountId}::uuid FOR NO KEY UPDATE`;
}

const LOCK_REACHABLE: Record<Viewer["role"], string> = {
  OPERATOR: lockReachableSql("OPERATOR"),
  MANAGER: lockReachableSql("MANAGER"),
  SUB_ACCOUNT: lockReachableSql("SUB_ACCOUNT"),
};

function lockReachableSql(role: Viewer["role"]): string {
  return `SELECT 1 FROM "accounts" t WHERE t."id" = $1::uuid AND ($2::"AccountKind" IS NULL OR t."kind" = $2::"AccountKind")
    AND ${reachableAccountsSql(role, "$3")} FOR NO KEY UPDATE`;
}

/**
 * lockAccount for a row the viewer may reach (of the kind named, when one
 * is), and nothing else: the reach condition is part of the locking
 * statement, so a row out of reach is never waited on and its NotFoundError
 * comes as fast as a missing row's.
 */
export async function lockReachableAccount(tx: Tx, viewer: Viewer, accountId: string, kind?: AccountKind): Promise<void> {
  await tx.$executeRawUnsafe(LOCK_REACHABLE[viewer.role], accountId, kind ?? null, ...reachableAccountsSqlValues(viewer));
}

/** True for Prisma's unique-constraint violation on one of the given fields. */
export function isUniqueViolation(error: unknown, field?: string): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== "P2002") return false;
  if (!field) return true;
  const meta = JSON.stringify(error.meta ?? {});
  return meta.includes(field);
}

/** Maps a unique violation of the email index to the contract's ConflictError. */
export async function withEmailConflict<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error, "email")) throw new ConflictError("An account with this email already exists");
    throw error;
  }
}
