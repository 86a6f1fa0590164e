import { createHash } from "node:crypto";
import type { Viewer } from "../auth/viewer.js";
import type { Tx } from "../db/client.js";
import { IdempotencyConflictError } from "../domain/errors.js";

/** A stable hash of a mutation's input (keys sorted), to detect key reuse with another payload. */
export function hashInput(input: unknown): string {
  const canonical = JSON.stringify(input, (_key, value) =>
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
      : typeof value === "bigint"
        ? value.toString()
        : value,
  );
  return createHash("sha256").update(canonical).digest("hex");
}

/**
 * Whose key it is: the authenticated account, or the operator. Part of every
 * key's scope (DOMAIN.md: keys are scoped to the caller, the account named
 * and the mutation), so a sub-account and its manager never share a key.
 * Acting as a sub-account, the caller is still the manager (or the
 * operator): otherwise the sub-account could take a key first and block,
 * or answer for, its manager's charge.
 */
export const callerOf = (viewer: Viewer): string => {
  if (viewer.role === "OPERATOR") return "operator";
  if (viewer.actingAs) return viewer.actingAs.accountId ?? "operator";
  return viewer.accountId;
};

/** One key's scope: the caller, the account named and the mutation. */
export interface KeyScope {
  caller: string;
  accountId: string;
  operation: string;
  key: string;
}

const keyOf = ({ caller, accountId, operation, key }: KeyScope) => ({ caller_accountId_operation_key: { caller, accountId, operation, key } });

export type IdempotentOutcome<Ref> = { replayed: false } | { replayed: true; ref: Ref };

/**
 * Claims an idempotency key inside the caller's transaction. The insert
 * blocks behind a concurrent claim of the same key until that transaction
 * ends: if it committed, this call returns its stored result reference (or
 * throws IdempotencyConflictError for another input); if it rolled back, the
 * claim is ours. A failed mutation rolls its claim back, so keys are spent
 * only by changes that took effect.
 */
export async function claimIdempotencyKey<Ref>(tx: Tx, scope: KeyScope & { input: unknown }): Promise<IdempotentOutcome<Ref>> {
  const requestHash = hashInput(scope.input);
  const claimed = await tx.idempotencyKey.createMany({
    data: [{ caller: scope.caller, accountId: scope.accountId, operation: scope.operation, key: scope.key, requestHash, result: {} }],
    skipDuplicates: true,
  });
  if (claimed.count === 1) return { replayed: false };
  const existing = await tx.idempotencyKey.findUniqueOrThrow({ where: keyOf(scope) });
  return { replayed: true, ref: replayedResult<Ref>(existing, requestHash) };
}

/**
 * The result reference stored under a key that a committed change took, or
 * IdempotencyConflictError when that change had another input.
 */
/** The key a committed change took under this scope, if any. */
export function findTakenKey(db: Pick<Tx, "idempotencyKey">, scope: KeyScope) {
  return db.idempotencyKey.findUnique({ where: keyOf(scope) });
}

export function replayedResult<Ref>(taken: { requestHash: string; result: unknown }, requestHash: string): Ref {
  if (taken.requestHash !== requestHash) throw new IdempotencyConflictError();
  return taken.result as Ref;
}

/** Stores the reference to the first result, for replays. */
export async function storeIdempotentResult(tx: Tx, scope: KeyScope, ref: Record<string, unknown>): Promise<void> {
  await tx.idempotencyKey.update({ where: keyOf(scope), data: { result: ref as never } });
}
