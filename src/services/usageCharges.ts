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
// An account with usage triggers (accounts.hasUsageTriggers, or a rollup
// sub-account whose manager's balance is watched: services/usageTriggers.ts)
// is charged by the same statement inside a transaction that then checks the
// triggers, still holding the charge's row locks, so what a trigger does
// commits with the charge that crossed it. The one-statement text refuses
// such an account (Postgres re-checks the flag under the row lock), and the
// charge goes on as a transaction; accounts without triggers pay nothing for
// them (test/usageTriggers/concurrency.test.ts counts the statements).
//
// The statement repeats a few rules in SQL (the price levels of
// domain/pricing.ts, hasOwnBalance, effectiveStatus, withinCreditLimit) so
// that a charge is one round trip; when it refuses a charge, the error is
// found with the rules themselves. test/billing/pricing.test.ts charges every
// kind of rate card against the price list the API shows.

import { encodeGlobalID } from "@pothos/plugin-relay";
import pg from "pg";
import { reachableAccountsSql, reachableAccountsSqlValues } from "../auth/rowFilters.js";
import { actorOf, type Viewer } from "../auth/viewer.js";
import { prisma } from "../db/client.js";
import { inSqlTransaction, runSql, violatedConstraint } from "../db/sql.js";
import { payingAccountId } from "../domain/billing.js";
import { CreditLimitExceededError, InsufficientFundsError } from "../domain/errors.js";
import { CURRENCY, costOf, MICROS_PER_UNIT, withinCreditLimit } from "../domain/money.js";
import { unitPriceOf } from "../domain/pricing.js";
import type { Account, Product, UsageRecord } from "../generated/prisma/client.js";
import { tableOf } from "../read/tables.js";
import { assertAccountActive, findReachableAccount } from "./accounts.js";
import { recordCreditLimitRefusal } from "./events.js";
import { callerOf, findTakenKey, hashInput, replayedResult } from "./idempotency.js";
import { type AccountRef, newId } from "./ids.js";
import { loadPriceList } from "./pricing.js";
import { checkUsageTriggers } from "./usageTriggers.js";

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
 * Named placeholders for a statement whose text is built once and run many
 * times: the names, in order, are $1, $2, ... (`param.accountId` is the
 * placeholder of accountId), and `values` lays out one run's values in that
 * same order from an object that must name every one, so no placeholder can
 * be paired with the wrong value. The text stays constant, as runSql's
 * prepared statements want; only the values vary.
 */
function namedParameters<const Name extends string>(names: readonly Name[]) {
  const param = Object.fromEntries(names.map((name, i) => [name, `$${i + 1}`])) as Record<Name, string>;
  return { param, count: names.length, values: (byName: Record<Name, unknown>): unknown[] => names.map((name) => byName[name]) };
}

const CHARGE_PARAMETERS = namedParameters([
  "accountId",
  "idempotencyKey",
  "product",
  "quantity",
  "usageRecordId",
  "occurredAt",
  "ledgerEntryId",
  "auditEventId",
  "requestHash",
  // What the idempotency key stores as the first result.
  "keyResult",
  // Who the change is recorded as (actorOf: the real caller, also when acting as the sub-account).
  "actorRole",
  "actorApiKeyPrefix",
  "viaActAs",
  "auditDetails",
  // The idempotency key's caller (callerOf).
  "caller",
  "accountKind",
  // The USAGE_RECORDED event: its id and data (its privileged part, the
  // price and cost, is built in the statement), and the id of the
  // CREDIT_LIMIT_REACHED event written when the charge makes totalSpent reach the limit.
  "eventId",
  "eventData",
  "limitEventId",
]);
const { param } = CHARGE_PARAMETERS;
/**
 * The reach filter's placeholder comes after the named ones: its value is
 * there for managers and sub-accounts only (reachableAccountsSqlValues), and
 * the operator's statement has no such placeholder, so it is not a named
 * parameter that every run would have to pass.
 */
const VIEWER_ACCOUNT_ID = `$${CHARGE_PARAMETERS.count + 1}`;

/**
 * The charge of `quantity` units of `product` on account `accountId`, in one
 * statement:
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
 * `path` "alone": the statement is the whole charge, and refuses an account
 * with usage triggers, or a rollup sub-account whose manager has
 * (hasUsageTriggers, checked by `charged` and, for the manager's row, by
 * `payer` under its lock: a manager's flag set after this statement's
 * snapshot leaves `payer` empty, which fails the entry's NOT NULL
 * balanceAfter). "withTriggers": the same charge without those conditions,
 * for a transaction that checks the triggers next.
 *
 * No row back means nothing was written: the account is out of reach or not
 * chargeable (or, alone, has triggers). Debits are unconditional: the
 * balance's CHECK constraint (never below zero) fails the statement, and so
 * the whole charge, when the balance does not cover it. A key already taken (by this caller, on this account)
 * fails it on the key's primary key. A missing payer row (it cannot be: accounts with
 * sub-accounts are never deleted) fails the entry's NOT NULL balanceAfter
 * rather than commit a record without its entry.
 */
const chargeStatement = (role: Viewer["role"], path: ChargePath) => `
  WITH subject AS (
    SELECT t."id", COALESCE(
      (SELECT r."unitPriceMicros" FROM "account_rates" r
        WHERE t."kind" = 'SUB_ACCOUNT' AND t."allowCustomPricing" AND r."accountId" = t."id" AND r."product" = ${param.product}::"Product"),
      (SELECT r."unitPriceMicros" FROM "account_rates" r WHERE r."accountId" = COALESCE(t."managerId", t."id") AND r."product" = ${param.product}::"Product"),
      (SELECT p."unitPriceMicros" FROM "platform_rates" p WHERE p."product" = ${param.product}::"Product")
    ) AS "unitPriceMicros"
    FROM "accounts" t WHERE t."id" = ${param.accountId}::uuid AND t."kind" = ${param.accountKind}::"AccountKind" AND ${reachableAccountsSql(role, VIEWER_ACCOUNT_ID)}
  ), charged AS (
    UPDATE "accounts" t SET
      "totalSpentMicros" = t."totalSpentMicros" + s."unitPriceMicros" * ${param.quantity}::int,
      "balanceMicros" = t."balanceMicros" - CASE WHEN t."kind" = 'MANAGER' OR NOT t."rollupBilling" THEN s."unitPriceMicros" * ${param.quantity}::int ELSE 0 END,
      "updatedAt" = now()
    FROM subject s
    WHERE t."id" = s."id" AND t."status" = 'ACTIVE'${
      path === "alone"
        ? `
      AND NOT t."hasUsageTriggers"
      AND NOT EXISTS (SELECT 1 FROM "accounts" m WHERE m."id" = t."managerId" AND (m."status" = 'SUSPENDED' OR (t."rollupBilling" AND m."hasUsageTriggers")))`
        : `
      AND NOT EXISTS (SELECT 1 FROM "accounts" m WHERE m."id" = t."managerId" AND m."status" = 'SUSPENDED')`
    }
      AND (t."creditLimitMicros" IS NULL OR t."totalSpentMicros" + s."unitPriceMicros" * ${param.quantity}::int <= t."creditLimitMicros")
    RETURNING ${tableOf("Account").columns}, s."unitPriceMicros", s."unitPriceMicros" * ${param.quantity}::int AS "costMicros",
      t."kind" = 'SUB_ACCOUNT' AND t."rollupBilling" AS "rollup"
  ), payer AS (
    UPDATE "accounts" m SET "balanceMicros" = m."balanceMicros" - charged."costMicros"
    FROM charged WHERE charged."rollup" AND m."id" = charged."managerId"${path === "alone" ? ` AND NOT m."hasUsageTriggers"` : ""}
    RETURNING m."id", m."balanceMicros"
  ), claim AS (
    INSERT INTO "idempotency_keys" ("caller", "accountId", "operation", "key", "requestHash", "result")
    SELECT ${param.caller}, charged."id", 'recordUsage', ${param.idempotencyKey}, ${param.requestHash}, ${param.keyResult}::jsonb FROM charged
    RETURNING "accountId"
  ), recorded AS (
    INSERT INTO "usage_records" ("id", "accountId", "product", "quantity", "unitPriceMicros", "costMicros", "idempotencyKey", "occurredAt")
    SELECT ${param.usageRecordId}::uuid, claim."accountId", ${param.product}::"Product", ${param.quantity}::int, charged."unitPriceMicros", charged."costMicros", ${param.idempotencyKey}, ${param.occurredAt}::timestamptz
    FROM claim, charged
    RETURNING "createdAt"
  ), entry AS (
    INSERT INTO "ledger_entries" ("id", "balanceAccountId", "causedByAccountId", "kind", "amountMicros", "balanceAfterMicros", "usageRecordId")
    SELECT ${param.ledgerEntryId}::uuid, COALESCE(payer."id", charged."id"), charged."id", 'CHARGE', -charged."costMicros",
      CASE WHEN charged."rollup" THEN payer."balanceMicros" ELSE charged."balanceMicros" END, ${param.usageRecordId}::uuid
    FROM charged LEFT JOIN payer ON true
    RETURNING "balanceAfterMicros"
  ), audit AS (
    INSERT INTO "audit_events" ("id", "action", "actorRole", "actorApiKeyPrefix", "viaActAs", "accountId", "treeManagerId", "details")
    SELECT ${param.auditEventId}::uuid, 'usage.record', ${param.actorRole}::"Role", ${param.actorApiKeyPrefix}, ${param.viaActAs}::boolean, charged."id", COALESCE(charged."managerId", charged."id"), ${param.auditDetails}::jsonb FROM charged
  ), event AS (
    INSERT INTO "events" ("id", "type", "accountId", "treeManagerId", "actorRole", "actorApiKeyPrefix", "viaActAs", "data", "privilegedData")
    SELECT ${param.eventId}::uuid, 'USAGE_RECORDED', charged."id", COALESCE(charged."managerId", charged."id"), ${param.actorRole}::"Role", ${param.actorApiKeyPrefix}, ${param.viaActAs}::boolean,
      ${param.eventData}::jsonb, jsonb_build_object('unitPrice', ${moneySql('charged."unitPriceMicros"')}, 'cost', ${moneySql('charged."costMicros"')})
    FROM charged
  ), limit_reached AS (
    INSERT INTO "events" ("id", "type", "accountId", "treeManagerId", "actorRole", "actorApiKeyPrefix", "viaActAs", "data", "privilegedData")
    SELECT ${param.limitEventId}::uuid, 'CREDIT_LIMIT_REACHED', charged."id", COALESCE(charged."managerId", charged."id"), ${param.actorRole}::"Role", ${param.actorApiKeyPrefix}, ${param.viaActAs}::boolean,
      jsonb_build_object('creditLimit', ${moneySql('charged."creditLimitMicros"')}, 'totalSpent', ${moneySql('charged."totalSpentMicros"')}, 'refused', false), '{}'::jsonb
    FROM charged WHERE charged."costMicros" > 0 AND charged."totalSpentMicros" = charged."creditLimitMicros"
  )
  SELECT charged.*, entry."balanceAfterMicros", recorded."createdAt" AS "usageCreatedAt",
    (SELECT m."balanceMicros" FROM "accounts" m WHERE m."id" = charged."managerId") AS "managerBalanceMicros"
  FROM charged, entry, recorded`;

/** Money in SQL as the API writes it (the Money type; formatMicros): six decimals, and the currency. */
function moneySql(micros: string): string {
  return `jsonb_build_object('amount', (${micros}::numeric / ${MICROS_PER_UNIT})::numeric(26, 6)::text, 'currency', '${CURRENCY}')`;
}

/** How a charge runs: one statement alone, or in a transaction with the usage triggers' check. */
type ChargePath = "alone" | "withTriggers";

/** The statements' texts, built once: by path, then by the viewer's role. */
const CHARGE: Record<ChargePath, Record<Viewer["role"], string>> = {
  alone: { OPERATOR: chargeStatement("OPERATOR", "alone"), MANAGER: chargeStatement("MANAGER", "alone"), SUB_ACCOUNT: chargeStatement("SUB_ACCOUNT", "alone") },
  withTriggers: {
    OPERATOR: chargeStatement("OPERATOR", "withTriggers"),
    MANAGER: chargeStatement("MANAGER", "withTriggers"),
    SUB_ACCOUNT: chargeStatement("SUB_ACCOUNT", "withTriggers"),
  },
};

/** True when the account's charges must check usage triggers: its own, or (rollup) those watching its manager's balance. */
const chargesCheckTriggers = (account: AccountWithManager) => account.hasUsageTriggers || (account.rollupBilling && !!account.manager?.hasUsageTriggers);

/**
 * The charge and its usage triggers' check in one transaction: the charge's
 * row locks (the account, the paying balance) are held until the triggers
 * have done what they do, so the next charge of the account sees it (a
 * suspension refuses it).
 */
function chargeWithTriggers(viewer: Viewer, values: unknown[], product: Product): Promise<ChargedRow | undefined> {
  return inSqlTransaction(async (run) => {
    const [row] = await run<ChargedRow>(CHARGE.withTriggers[viewer.role], values);
    if (!row) return undefined;
    const { suspended } = await checkUsageTriggers(run, viewer, {
      account: row,
      product,
      costMicros: row.costMicros,
      balanceAfterMicros: row.balanceAfterMicros,
    });
    return suspended ? { ...row, status: "SUSPENDED", ...suspended } : row;
  });
}

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

/** The one-statement charge's refusal by a manager's usage-trigger flag found under the lock: an entry without its balance. */
const entryWithoutBalance = (error: unknown) =>
  error instanceof pg.DatabaseError && error.code === "23502" && error.table === "ledger_entries" && error.column === "balanceAfterMicros";

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

  // Alone first: an account without triggers (most) is charged in one statement.
  let path: ChargePath = "alone";
  for (let attempt = 1; ; attempt++) {
    const usageRecordId = newId();
    const occurredAt = usage.occurredAt ?? new Date();
    let failure: "refused" | "keyTaken" | "insufficientFunds" = "refused";
    try {
      const values = [
        ...CHARGE_PARAMETERS.values({
          accountId,
          idempotencyKey,
          product,
          quantity,
          usageRecordId,
          occurredAt,
          ledgerEntryId: newId(),
          auditEventId: newId(),
          requestHash,
          keyResult: JSON.stringify({ usageRecordId }),
          ...actorOf(viewer),
          auditDetails: JSON.stringify({ usageRecordId, product, quantity }),
          caller: keyScope.caller,
          accountKind: kind,
          eventId: newId(),
          eventData: JSON.stringify({
            usageRecord: { id: encodeGlobalID("UsageRecord", usageRecordId), product, quantity, idempotencyKey, occurredAt: occurredAt.toISOString() },
          }),
          limitEventId: newId(),
        }),
        ...reachableAccountsSqlValues(viewer),
      ];
      const row = path === "alone" ? (await runSql<ChargedRow>(CHARGE.alone[viewer.role], values))[0] : await chargeWithTriggers(viewer, values, product);
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
      else if (!(path === "alone" && entryWithoutBalance(error))) throw error;
    }

    // Nothing was written: find out why, in the order recordUsage answers.
    // Out of reach: NotFoundError.
    const account = await findReachableAccount(prisma, viewer, accountId, kind);
    // Refused alone for its usage triggers: charge it with them (the charge finds any other reason to refuse it).
    if (failure === "refused" && path === "alone" && chargesCheckTriggers(account) && attempt < MAX_ATTEMPTS) {
      path = "withTriggers";
      continue;
    }
    path = chargesCheckTriggers(account) ? "withTriggers" : "alone";
    // A committed change that took this key: its result, whatever the account's state now.
    const taken = await findTakenKey(prisma, keyScope);
    if (taken) {
      const { usageRecordId: firstId } = replayedResult<{ usageRecordId: string }>(taken, requestHash);
      return { usageRecord: await prisma.usageRecord.findUniqueOrThrow({ where: { id: firstId } }), account };
    }
    if (failure === "insufficientFunds") throw insufficientFunds(accountId, payingAccountId(account));
    if (failure === "refused") {
      const costMicros = costOf(unitPriceOf(await loadPriceList(prisma, account), product), quantity);
      try {
        assertChargeable(account, costMicros);
      } catch (error) {
        // DOMAIN.md: a charge the credit limit refuses is an event, though it changes nothing else.
        if (error instanceof CreditLimitExceededError) await recordCreditLimitRefusal(prisma, viewer, account, { product, quantity });
        throw error;
      }
    }
    // Chargeable by now (a concurrent change landed in between): charge again.
    if (attempt === MAX_ATTEMPTS) throw new Error("recordUsage: the charge failed for no reason the rules name");
  }
}
