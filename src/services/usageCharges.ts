// recordUsage's charge in plain SQL, built for many concurrent charges on one
// shared (rollup) balance: the whole charge is ONE statement (data-modifying
// CTEs) that commits on its own; Prisma's chargeUsage (billing.ts) still
// charges inside other operations (a provisioned phone number).
//
// The statement locks the charged account's row (its UPDATE), then the
// paying balance's row: the order of every other charge, so charges cannot
// deadlock one another. The paying balance is the hot row (a manager's
// balance shared by its rollup sub-accounts); it stays locked for the rest of
// that statement and its commit, inside Postgres, never for a round trip
// through this process.
//
// The effective price is read from the statement's snapshot, before it takes
// any lock. A price change committed while a charge is under way may or may
// not apply to it, as if it had come just after or just before; prices change
// rarely, and the record keeps the unit price it was charged at.
//
// The statement repeats a few rules in SQL (the price levels of
// domain/pricing.ts, hasOwnBalance, effectiveStatus, withinCreditLimit) so
// that a charge is one round trip; when it refuses a charge, the error is
// found with the rules themselves. test/billing/pricing.test.ts charges every
// kind of rate card against the price list the API shows.

import { reachableAccountsSql, reachableAccountsSqlValues } from "../auth/rowFilters.js";
import type { Viewer } from "../auth/viewer.js";
import { prisma } from "../db/client.js";
import { runSql, violatedConstraint } from "../db/sql.js";
import { payingAccountId } from "../domain/billing.js";
import { CreditLimitExceededError, InsufficientFundsError } from "../domain/errors.js";
import { costOf, withinCreditLimit } from "../domain/money.js";
import { unitPriceOf } from "../domain/pricing.js";
import type { Account, Product, UsageRecord } from "../generated/prisma/client.js";
import { tableOf } from "../read/tables.js";
import { assertAccountActive, findReachableAccount } from "./accounts.js";
import { callerOf, findTakenKey, hashInput, replayedResult } from "./idempotency.js";
import { type AccountRef, newId } from "./ids.js";
import { loadPriceList } from "./pricing.js";

type AccountWithManager = Account & { manager: Account | null };

/** An account and the balance of its manager, as a charge's result shows them (the Balance of RecordUsageSuccess). */
export type ChargedAccount = Account & { manager: Pick<Account, "balanceMicros"> | null };

export interface UsageInput {
  product: Product;
  quantity: number;
  idempotencyKey: string;
  occurredAt?: Date | null;
}

/** Throws AccountNotActiveError or CreditLimitExceededError unless the account may be charged `costMicros`. */
export function assertChargeable(account: AccountWithManager, costMicros: bigint): void {
  assertAccountActive(account);
  if (!withinCreditLimit(account.creditLimitMicros, account.totalSpentMicros, costMicros)) {
    throw new CreditLimitExceededError(account.creditLimitMicros!, account.totalSpentMicros);
  }
}

/** The error of a charge its paying balance does not cover. */
export function insufficientFunds(accountId: string, payerId: string): InsufficientFundsError {
  return new InsufficientFundsError(
    payerId === accountId ? "The balance does not cover this charge" : "The manager's shared balance does not cover this charge",
  );
}

// ------------------------------------------------------------- statement

/**
 * The charge of `quantity` ($4) units of `product` ($3) on account $1, in
 * one statement:
 * - `subject`: the account if the viewer reaches it, with its effective unit
 *   price: the first of its custom card (a sub-account with
 *   allowCustomPricing), its manager's card (a manager's own), the platform
 *   card that lists the product.
 * - `charged`: adds the cost to totalSpent (and, for an account that pays its
 *   own charges, debits its balance) where the account is ACTIVE under a
 *   manager that is not suspended, within its credit limit. Postgres
 *   re-checks these conditions against the latest committed row once it
 *   holds the row's lock.
 * - everything else only for a charged row: the debit of the manager's
 *   balance under rollup billing (`payer`), the idempotency key with its
 *   result, the usage record, the CHARGE ledger entry with the balance after
 *   it, the audit event.
 *
 * No row back means nothing was written: the account is out of reach or not
 * chargeable. Debits are unconditional: the balance's CHECK constraint (never
 * below zero) fails the statement, and so the whole charge, when the balance
 * does not cover it. A key already taken (by this caller, on this account)
 * fails it on the key's primary key. A missing payer row (it cannot be: accounts with
 * sub-accounts are never deleted) fails the entry's NOT NULL balanceAfter
 * rather than commit a record without its entry.
 */
const chargeStatement = (role: Viewer["role"]) => `
  WITH subject AS (
    SELECT t."id", COALESCE(
      (SELECT r."unitPriceMicros" FROM "account_rates" r
        WHERE t."kind" = 'SUB_ACCOUNT' AND t."allowCustomPricing" AND r."accountId" = t."id" AND r."product" = $3::"Product"),
      (SELECT r."unitPriceMicros" FROM "account_rates" r WHERE r."accountId" = COALESCE(t."managerId", t."id") AND r."product" = $3::"Product"),
      (SELECT p."unitPriceMicros" FROM "platform_rates" p WHERE p."product" = $3::"Product")
    ) AS "unitPriceMicros"
    FROM "accounts" t WHERE t."id" = $1::uuid AND t."kind" = $15::"AccountKind" AND ${reachableAccountsSql(role, "$16")}
  ), charged AS (
    UPDATE "accounts" t SET
      "totalSpentMicros" = t."totalSpentMicros" + s."unitPriceMicros" * $4::int,
      "balanceMicros" = t."balanceMicros" - CASE WHEN t."kind" = 'MANAGER' OR NOT t."rollupBilling" THEN s."unitPriceMicros" * $4::int ELSE 0 END,
      "updatedAt" = now()
    FROM subject s
    WHERE t."id" = s."id" AND t."status" = 'ACTIVE'
      AND NOT EXISTS (SELECT 1 FROM "accounts" m WHERE m."id" = t."managerId" AND m."status" = 'SUSPENDED')
      AND (t."creditLimitMicros" IS NULL OR t."totalSpentMicros" + s."unitPriceMicros" * $4::int <= t."creditLimitMicros")
    RETURNING ${tableOf("Account").columns}, s."unitPriceMicros", s."unitPriceMicros" * $4::int AS "costMicros",
      t."kind" = 'SUB_ACCOUNT' AND t."rollupBilling" AS "rollup"
  ), payer AS (
    UPDATE "accounts" m SET "balanceMicros" = m."balanceMicros" - charged."costMicros"
    FROM charged WHERE charged."rollup" AND m."id" = charged."managerId"
    RETURNING m."id", m."balanceMicros"
  ), claim AS (
    INSERT INTO "idempotency_keys" ("caller", "accountId", "operation", "key", "requestHash", "result")
    SELECT $14, charged."id", 'recordUsage', $2, $9, $10::jsonb FROM charged
    RETURNING "accountId"
  ), recorded AS (
    INSERT INTO "usage_records" ("id", "accountId", "product", "quantity", "unitPriceMicros", "costMicros", "idempotencyKey", "occurredAt")
    SELECT $5::uuid, claim."accountId", $3::"Product", $4::int, charged."unitPriceMicros", charged."costMicros", $2, $6::timestamptz
    FROM claim, charged
    RETURNING "createdAt"
  ), entry AS (
    INSERT INTO "ledger_entries" ("id", "balanceAccountId", "causedByAccountId", "kind", "amountMicros", "balanceAfterMicros", "usageRecordId")
    SELECT $7::uuid, COALESCE(payer."id", charged."id"), charged."id", 'CHARGE', -charged."costMicros",
      CASE WHEN charged."rollup" THEN payer."balanceMicros" ELSE charged."balanceMicros" END, $5::uuid
    FROM charged LEFT JOIN payer ON true
    RETURNING "balanceAfterMicros"
  ), audit AS (
    INSERT INTO "audit_events" ("id", "action", "actorRole", "actorApiKeyPrefix", "accountId", "treeManagerId", "details")
    SELECT $8::uuid, 'usage.record', $11::"Role", $12, charged."id", COALESCE(charged."managerId", charged."id"), $13::jsonb FROM charged
  )
  SELECT charged.*, entry."balanceAfterMicros", recorded."createdAt" AS "usageCreatedAt",
    (SELECT m."balanceMicros" FROM "accounts" m WHERE m."id" = charged."managerId") AS "managerBalanceMicros"
  FROM charged, entry, recorded`;

const CHARGE: Record<Viewer["role"], string> = {
  OPERATOR: chargeStatement("OPERATOR"),
  MANAGER: chargeStatement("MANAGER"),
  SUB_ACCOUNT: chargeStatement("SUB_ACCOUNT"),
};

/** A charged row: the account after the charge, the price, the paying balance after it, the record's createdAt. */
type ChargedRow = Account & {
  unitPriceMicros: bigint;
  costMicros: bigint;
  rollup: boolean;
  balanceAfterMicros: bigint;
  usageCreatedAt: Date;
  managerBalanceMicros: bigint | null;
};

/** Constraints whose violation fails a charge on purpose (migration 0001_init). */
const KEY_TAKEN = "idempotency_keys_pkey";
const BALANCE_NOT_NEGATIVE = "accounts_balance_not_negative";

// ---------------------------------------------------------------- charge

/** Charges refused, then found chargeable, before giving up (each retry needs a concurrent change in between). */
const MAX_ATTEMPTS = 5;

/**
 * Records usage on an account the viewer reaches and charges it (see
 * recordUsage in billing.ts for the rules), in one statement. Throws
 * NotFoundError, AccountNotActiveError, CreditLimitExceededError,
 * InsufficientFundsError or IdempotencyConflictError, with nothing written.
 */
export async function chargeRecordedUsage(
  viewer: Viewer,
  { id: accountId, kind }: AccountRef,
  usage: UsageInput,
): Promise<{ usageRecord: UsageRecord; account: ChargedAccount }> {
  const { product, quantity, idempotencyKey } = usage;
  const requestHash = hashInput({ product, quantity, occurredAt: usage.occurredAt?.toISOString() ?? null });
  const keyScope = { caller: callerOf(viewer), accountId, operation: "recordUsage", key: idempotencyKey };

  for (let attempt = 1; ; attempt++) {
    const usageRecordId = newId();
    const occurredAt = usage.occurredAt ?? new Date();
    let failure: "refused" | "keyTaken" | "insufficientFunds" = "refused";
    try {
      const [row] = await runSql<ChargedRow>(CHARGE[viewer.role], [
        accountId,
        idempotencyKey,
        product,
        quantity,
        usageRecordId,
        occurredAt,
        newId(),
        newId(),
        requestHash,
        JSON.stringify({ usageRecordId }),
        viewer.role,
        viewer.role === "OPERATOR" ? null : viewer.apiKey.prefix,
        JSON.stringify({ usageRecordId, product, quantity }),
        keyScope.caller,
        kind,
        ...reachableAccountsSqlValues(viewer),
      ]);
      if (row) {
        const { unitPriceMicros, costMicros, rollup, balanceAfterMicros, usageCreatedAt, managerBalanceMicros, ...account } = row;
        return {
          usageRecord: { id: usageRecordId, accountId, product, quantity, unitPriceMicros, costMicros, idempotencyKey, occurredAt, createdAt: usageCreatedAt },
          account: { ...account, manager: account.managerId ? { balanceMicros: rollup ? balanceAfterMicros : managerBalanceMicros! } : null },
        };
      }
    } catch (error) {
      const unique = violatedConstraint(error, "23505");
      if (unique === KEY_TAKEN) failure = "keyTaken";
      else if (violatedConstraint(error, "23514") === BALANCE_NOT_NEGATIVE) failure = "insufficientFunds";
      else throw error;
    }

    // Nothing was written: find out why, in the order recordUsage answers.
    // Out of reach: NotFoundError.
    const account = await findReachableAccount(prisma, viewer, accountId, kind);
    // A committed change that took this key: its result, whatever the account's state now.
    const taken = await findTakenKey(prisma, keyScope);
    if (taken) {
      const { usageRecordId: firstId } = replayedResult<{ usageRecordId: string }>(taken, requestHash);
      return { usageRecord: await prisma.usageRecord.findUniqueOrThrow({ where: { id: firstId } }), account };
    }
    if (failure === "insufficientFunds") throw insufficientFunds(accountId, payingAccountId(account));
    if (failure === "refused") {
      assertChargeable(account, costOf(unitPriceOf(await loadPriceList(prisma, account), product), quantity));
    }
    // Chargeable by now (a concurrent change landed in between): charge again.
    if (attempt === MAX_ATTEMPTS) throw new Error("recordUsage: the charge failed for no reason the rules name");
  }
}
