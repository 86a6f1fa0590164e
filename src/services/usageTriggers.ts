// Usage triggers (DOMAIN.md "Usage triggers"): a threshold on one account's
// spend in a period, or on the balance it draws on, checked in the
// transaction of every charge that could cross it, so that what a trigger
// does (an event; with SUSPEND, the sub-account suspended) commits with the
// charge that crossed it, and the next charge already sees it.
//
// Which charges check which triggers:
// - SPEND_REACHES watches the account's own charges (a manager's spend is its
//   own usage, as its totalSpent is).
// - BALANCE_FALLS_TO watches a balance, so every charge that debits that
//   balance checks it: a manager's trigger (and a rollup sub-account's, whose
//   balance is its manager's) is checked by the manager's own charges and by
//   those of every rollup sub-account.
// - accounts.hasUsageTriggers says which charges must take the trigger path:
//   true on an account with triggers of its own, and on a manager whose
//   balance a rollup sub-account's BALANCE_FALLS_TO trigger watches. Charges
//   of accounts (and paying balances) without it stay one statement
//   (usageCharges.ts). A stale `true` (after a purge) only costs the slower
//   path; a missing one would miss a crossing, so it is set in the same
//   transaction as the trigger, under the locks charges take.
//
// Lock order, as every charge: the charged account's row, then the paying
// balance's row (a rollup sub-account's manager); a trigger's rows only under
// its account's lock. SUSPEND only ever changes the charged account, whose
// row the charge holds already: a SUSPEND trigger is on a sub-account (never
// a manager), and on a balance condition only where the balance is the
// sub-account's own, so no other account's charge can cross it.
//
// Choices where DOMAIN.md is silent:
// - Periods are UTC calendar days and months, by the time of the charge
//   (not the usage's occurredAt); ALL_TIME counts from the account's first charge.
// - A trigger created when its period's spend already reaches the threshold
//   fires on the next charge of that period (it has not fired in it yet).
//   A balance trigger fires on a crossing only: created below its threshold,
//   it fires after the balance has risen above it and falls again.
// - Only charges fire triggers: a transfer out of a balance does not.
// - `period` is kept for SPEND_REACHES; a BALANCE_FALLS_TO trigger stores
//   ALL_TIME whatever was sent (the input's default is MONTHLY).
// - At most MAX_USAGE_TRIGGERS_PER_ACCOUNT triggers per account
//   (LimitExceededError); none on a CLOSED account (ValidationError).
// - SUSPEND on a manager account, and SUSPEND with BALANCE_FALLS_TO on a
//   rollup sub-account (whose balance its siblings' charges lower too), are
//   ValidationErrors; SUSPEND by a sub-account is a ForbiddenError, and so is
//   a sub-account deleting a SUSPEND trigger (its manager's cap on it).
// - A fired event's actor is the charging caller when the trigger is on the
//   charged account, and none (the platform) when another account's charge
//   crossed it, so no account learns another's key prefix.

import { encodeGlobalID } from "@pothos/plugin-relay";
import { assertMayPerform } from "../auth/actions.js";
import { reachableUsageTriggers, within } from "../auth/rowFilters.js";
import { actorOf, type Viewer } from "../auth/viewer.js";
import type { Tx } from "../db/client.js";
import type { SqlRunner } from "../db/sql.js";
import { hasOwnBalance, payingAccountId } from "../domain/billing.js";
import { LimitExceededError, NotFoundError, ValidationError } from "../domain/errors.js";
import { checkAmount } from "../domain/money.js";
import { InputChecker } from "../domain/text.js";
import type { Account, Prisma, Product, UsageTrigger, UsageTriggerAction, UsageTriggerCondition, UsageTriggerPeriod } from "../generated/prisma/client.js";
import { findReachableAccount } from "./accounts.js";
import { recordAudit } from "./audit.js";
import { accountData, moneyData } from "./events.js";
import { type AccountRef, newId } from "./ids.js";
import { inTransaction, lockAccount, lockReachableAccount } from "./transactions.js";

/** Triggers one account may hold. */
export const MAX_USAGE_TRIGGERS_PER_ACCOUNT = 25;

export interface CreateUsageTriggerInput {
  condition: UsageTriggerCondition;
  threshold: string;
  product?: Product | null;
  period?: UsageTriggerPeriod | null;
  action?: UsageTriggerAction | null;
}

/** A trigger as events show it (its threshold is an aggregate, not a price: every reader sees it). */
export function triggerData(t: Pick<UsageTrigger, "id" | "condition" | "thresholdMicros" | "product" | "period" | "action" | "lastFiredAt" | "createdAt">) {
  return {
    id: encodeGlobalID("UsageTrigger", t.id),
    condition: t.condition,
    threshold: moneyData(t.thresholdMicros),
    product: t.product,
    period: t.period,
    action: t.action,
    lastFiredAt: t.lastFiredAt?.toISOString() ?? null,
    createdAt: t.createdAt.toISOString(),
  };
}

/** The start of the current period of a trigger's `period` (SQL of type UsageTriggerPeriod), in UTC, by the transaction's clock. */
const periodStartSql = (period: string) =>
  `(CASE ${period} WHEN 'DAILY' THEN date_trunc('day', now(), 'UTC') WHEN 'MONTHLY' THEN date_trunc('month', now(), 'UTC') ELSE 'epoch'::timestamptz END)`;

/**
 * Where a new SPEND_REACHES trigger starts counting: the current period's
 * start and what the account was charged in it so far (of the product, when
 * one is named). Run under the account's lock, so no charge of the account
 * lands between this sum and the trigger's creation.
 */
const SPENT_SO_FAR = `
  SELECT p."start", CASE WHEN $2::"UsageTriggerPeriod" = 'ALL_TIME' AND $3::"Product" IS NULL THEN a."totalSpentMicros"
    ELSE COALESCE((SELECT SUM(u."costMicros") FROM "usage_records" u
      WHERE u."accountId" = a."id" AND u."createdAt" >= p."start" AND ($3::"Product" IS NULL OR u."product" = $3::"Product")), 0)::bigint END AS "spent"
  FROM "accounts" a CROSS JOIN LATERAL (SELECT ${periodStartSql(`$2::"UsageTriggerPeriod"`)} AS "start") p
  WHERE a."id" = $1::uuid`;

/**
 * A new trigger on a reachable account: its manager or an operator on any
 * of the tree's accounts, a sub-account on itself (NOTIFY only).
 */
export async function createUsageTrigger(viewer: Viewer, { id: accountId, kind }: AccountRef, input: CreateUsageTriggerInput) {
  assertMayPerform(viewer, "usageTrigger:create");
  const action = input.action ?? "NOTIFY";
  if (action === "SUSPEND") assertMayPerform(viewer, "usageTrigger:suspend");
  const { condition } = input;
  const check = new InputChecker();
  const thresholdMicros = checkAmount(check, input.threshold, "threshold");
  const product = input.product ?? null;
  check.check(product === null || condition === "SPEND_REACHES", "product", "product applies to SPEND_REACHES triggers only");
  // The kind comes from the id the caller sent, so this says nothing about any row.
  check.check(
    action !== "SUSPEND" || kind === "SUB_ACCOUNT",
    "action",
    "SUSPEND triggers are for sub-accounts only: a manager is never suspended by a trigger",
  );
  check.done();
  const period = condition === "SPEND_REACHES" ? (input.period ?? "MONTHLY") : "ALL_TIME";

  return inTransaction(async (tx) => {
    // The account's lock serialises this with its charges and its other triggers' changes.
    await lockReachableAccount(tx, viewer, accountId, kind);
    const account = await findReachableAccount(tx, viewer, accountId, kind);
    if (account.status === "CLOSED") throw ValidationError.of("accountId", "A closed account takes no usage triggers");
    const watchesSharedBalance = condition === "BALANCE_FALLS_TO" && !hasOwnBalance(account);
    // A rollup sub-account's balance is its manager's (it reads `available` as
    // null): a trigger on it would tell the sub-account when the manager's
    // balance crosses a figure of its choosing. The manager watches it with a
    // trigger on its own account, which its rollup sub-accounts' charges cross too.
    if (watchesSharedBalance) {
      throw ValidationError.of(
        "condition",
        "This sub-account's charges draw on its manager's shared balance, which is the manager's to watch: put the BALANCE_FALLS_TO trigger on the manager's account",
      );
    }
    const held = await tx.usageTrigger.count({ where: { accountId } });
    if (held >= MAX_USAGE_TRIGGERS_PER_ACCOUNT) {
      throw new LimitExceededError(
        `An account can hold at most ${MAX_USAGE_TRIGGERS_PER_ACCOUNT} usage triggers; delete one first`,
        MAX_USAGE_TRIGGERS_PER_ACCOUNT,
      );
    }
    let periodStart: Date | null = null;
    let periodSpentMicros = 0n;
    if (condition === "SPEND_REACHES") {
      const [so] = await tx.$queryRawUnsafe<{ start: Date; spent: bigint }[]>(SPENT_SO_FAR, accountId, period, product);
      periodStart = so!.start;
      periodSpentMicros = BigInt(so!.spent);
    }
    const trigger = await tx.usageTrigger.create({
      data: { accountId, condition, thresholdMicros, product, period, action, periodStart, periodSpentMicros },
    });
    // Raw, not Prisma's update: the flag is no change to the account (its updatedAt stays).
    await tx.$executeRawUnsafe(
      `UPDATE "accounts" SET "hasUsageTriggers" = true WHERE "id" IN ($1::uuid, $2::uuid) AND NOT "hasUsageTriggers"`,
      accountId,
      watchesSharedBalance ? account.managerId : null,
    );
    await recordAudit(tx, viewer, {
      action: "usageTrigger.create",
      account,
      details: { usageTriggerId: trigger.id, condition, threshold: triggerData(trigger).threshold.amount, action },
      event: { type: "USAGE_TRIGGER_CREATED", data: { trigger: triggerData(trigger) } },
    });
    return trigger;
  });
}

/**
 * Clears hasUsageTriggers on those of the accounts that no longer need it:
 * no trigger of their own and, for a manager, none of a rollup
 * sub-account's watching its balance.
 */
const CLEAR_FLAGS = `
  UPDATE "accounts" a SET "hasUsageTriggers" = false
  WHERE a."id" IN ($1::uuid, $2::uuid) AND a."hasUsageTriggers"
    AND NOT EXISTS (SELECT 1 FROM "usage_triggers" t WHERE t."accountId" = a."id")
    AND NOT (a."kind" = 'MANAGER' AND EXISTS (SELECT 1 FROM "accounts" s JOIN "usage_triggers" t ON t."accountId" = s."id"
      WHERE s."managerId" = a."id" AND s."rollupBilling" AND t."condition" = 'BALANCE_FALLS_TO'))`;

/** Deletes a reachable trigger; a sub-account may not delete a SUSPEND one (its manager's). */
export async function deleteUsageTrigger(viewer: Viewer, id: string) {
  assertMayPerform(viewer, "usageTrigger:delete");
  return inTransaction(async (tx) => {
    const trigger = await tx.usageTrigger.findFirst({
      where: within<Prisma.UsageTriggerWhereInput>({ id }, reachableUsageTriggers(viewer)),
      include: { account: true },
    });
    if (!trigger) throw new NotFoundError("The usage trigger");
    if (trigger.action === "SUSPEND") assertMayPerform(viewer, "usageTrigger:suspend");
    const { account } = trigger;
    const watchesSharedBalance = trigger.condition === "BALANCE_FALLS_TO" && !hasOwnBalance(account);
    await lockAccount(tx, account.id);
    if (watchesSharedBalance) await lockAccount(tx, account.managerId!);
    // Another request may have deleted it since it was read: then it is gone for this one too.
    const { count } = await tx.usageTrigger.deleteMany({ where: { id } });
    if (count === 0) throw new NotFoundError("The usage trigger");
    await tx.$executeRawUnsafe(CLEAR_FLAGS, account.id, watchesSharedBalance ? account.managerId : null);
    await recordAudit(tx, viewer, {
      action: "usageTrigger.delete",
      account,
      details: { usageTriggerId: trigger.id },
      event: { type: "USAGE_TRIGGER_DELETED", data: { trigger: triggerData(trigger) } },
    });
    return { deletedId: encodeGlobalID("UsageTrigger", trigger.id) };
  });
}

// ------------------------------------------------------------- firing

/** A committed-to-be charge, as the trigger check reads it. */
export interface TriggeringCharge {
  /** The charged account after the charge (still ACTIVE: charges need it). */
  account: Pick<Account, "id" | "kind" | "managerId" | "rollupBilling" | "email" | "organizationName" | "status">;
  product: Product;
  costMicros: bigint;
  /** The paying balance (the account's own, or its manager's under rollup billing) after the charge. */
  balanceAfterMicros: bigint;
}

/** What the fired triggers did to the charged account: when a SUSPEND trigger suspended it, the account's new timestamps. */
export interface TriggersOutcome {
  suspended: Pick<Account, "suspendedAt" | "updatedAt"> | null;
}

/**
 * Updates every trigger the charge concerns and returns those that fire:
 * - SPEND_REACHES of the charged account: rolls the period over (UTC day or
 *   month) when it has moved on, adds the cost when the product matches (or
 *   the trigger names none), fires when the period's spend reaches the
 *   threshold and the trigger has not fired in this period.
 * - BALANCE_FALLS_TO of every account drawing on the paying balance (its
 *   owner, and a manager's rollup sub-accounts): fires when the charge takes
 *   the balance from above the threshold to it or below (stateless: it fires
 *   again only after the balance has risen above the threshold).
 * $1 the charged account, $2 the paying balance's account, $3 the product,
 * $4 the cost, $5 the balance before, $6 after.
 */
const CHECK_TRIGGERS = `
  WITH candidates AS (
    SELECT t."id" FROM "usage_triggers" t WHERE t."accountId" = $1::uuid AND t."condition" = 'SPEND_REACHES'
    UNION ALL
    SELECT t."id" FROM "usage_triggers" t WHERE t."accountId" = $2::uuid AND t."condition" = 'BALANCE_FALLS_TO'
    UNION ALL
    SELECT t."id" FROM "accounts" s JOIN "usage_triggers" t ON t."accountId" = s."id"
    WHERE s."managerId" = $2::uuid AND s."rollupBilling" AND s."hasUsageTriggers" AND s."status" <> 'CLOSED' AND t."condition" = 'BALANCE_FALLS_TO'
  ), judged AS (
    SELECT t."id", p."start", s."spent",
      CASE WHEN t."condition" = 'SPEND_REACHES' THEN s."spent" >= t."thresholdMicros" AND t."firedPeriodStart" IS DISTINCT FROM p."start"
        ELSE $5::bigint > t."thresholdMicros" AND t."thresholdMicros" >= $6::bigint END AS "fires"
    FROM candidates c JOIN "usage_triggers" t ON t."id" = c."id"
    CROSS JOIN LATERAL (SELECT ${periodStartSql(`t."period"`)} AS "start") p
    CROSS JOIN LATERAL (SELECT CASE WHEN t."periodStart" = p."start" THEN t."periodSpentMicros" ELSE 0 END
      + CASE WHEN t."product" IS NULL OR t."product" = $3::"Product" THEN $4::bigint ELSE 0 END AS "spent") s
  ), updated AS (
    UPDATE "usage_triggers" t SET
      "periodStart" = CASE WHEN t."condition" = 'SPEND_REACHES' THEN j."start" ELSE t."periodStart" END,
      "periodSpentMicros" = CASE WHEN t."condition" = 'SPEND_REACHES' THEN j."spent" ELSE t."periodSpentMicros" END,
      "firedPeriodStart" = CASE WHEN j."fires" AND t."condition" = 'SPEND_REACHES' THEN j."start" ELSE t."firedPeriodStart" END,
      "lastFiredAt" = CASE WHEN j."fires" THEN now() ELSE t."lastFiredAt" END
    FROM judged j
    WHERE t."id" = j."id" AND (t."condition" = 'SPEND_REACHES' OR j."fires")
    RETURNING t.*, j."fires"
  )
  SELECT * FROM updated WHERE "fires" ORDER BY "createdAt", "id"`;

const EVENT_COLUMNS = `"id", "type", "accountId", "treeManagerId", "actorRole", "actorApiKeyPrefix", "viaActAs", "data", "privilegedData"`;

/**
 * The suspension by a SUSPEND trigger, with its audit event and event ($1 the
 * account, $2 audit id, $3 role, $4 prefix, $5 viaActAs, $6 details, $7 event
 * id, $8 data): recorded as the charging caller's, as the charge is.
 */
const SUSPEND = `
  WITH suspended AS (
    UPDATE "accounts" SET "status" = 'SUSPENDED', "suspendedAt" = now(), "updatedAt" = now()
    WHERE "id" = $1::uuid AND "kind" = 'SUB_ACCOUNT' AND "status" = 'ACTIVE'
    RETURNING "id", "managerId", "suspendedAt", "updatedAt"
  ), audit AS (
    INSERT INTO "audit_events" ("id", "action", "actorRole", "actorApiKeyPrefix", "viaActAs", "accountId", "treeManagerId", "details")
    SELECT $2::uuid, 'subAccount.suspend', $3::"Role", $4, $5::boolean, s."id", s."managerId", $6::jsonb FROM suspended s
  ), event AS (
    INSERT INTO "events" (${EVENT_COLUMNS})
    SELECT $7::uuid, 'SUB_ACCOUNT_SUSPENDED', s."id", s."managerId", $3::"Role", $4, $5::boolean, $8::jsonb, '{}'::jsonb FROM suspended s
  )
  SELECT "suspendedAt", "updatedAt" FROM suspended`;

/**
 * Checks the usage triggers a charge concerns, in the charge's transaction
 * (which holds the charged account's row and the paying balance's), and
 * does what the fired ones say: a USAGE_TRIGGER_FIRED event each and, for
 * SUSPEND, the charged sub-account suspended with its event and audit event.
 * `run` runs a statement in that transaction. The charge itself stands:
 * it is the one that crossed the threshold.
 */
export async function checkUsageTriggers(run: SqlRunner, viewer: Viewer, charge: TriggeringCharge): Promise<TriggersOutcome> {
  const { account, costMicros, balanceAfterMicros } = charge;
  const payerId = payingAccountId(account);
  const fired = await run<UsageTrigger>(CHECK_TRIGGERS, [account.id, payerId, charge.product, costMicros, balanceAfterMicros + costMicros, balanceAfterMicros]);
  if (fired.length === 0) return { suspended: null };

  const actor = actorOf(viewer);
  const values: unknown[] = [];
  const rows = fired.map((t) => {
    const own = t.accountId === account.id;
    // The trigger's account: the charged one, the paying manager, or a rollup sub-account of it.
    const subject = own
      ? account
      : t.accountId === payerId
        ? { id: payerId, kind: "MANAGER" as const, managerId: null, rollupBilling: false }
        : { id: t.accountId, kind: "SUB_ACCOUNT" as const, managerId: payerId, rollupBilling: true };
    const value = moneyData(t.condition === "SPEND_REACHES" ? t.periodSpentMicros : balanceAfterMicros);
    // DOMAIN.md: a rollup sub-account's available funds are its manager's, not its to see.
    const valueIsPrivileged = t.condition === "BALANCE_FALLS_TO" && !hasOwnBalance(subject);
    values.push(
      newId(),
      t.accountId,
      subject.kind === "MANAGER" ? subject.id : subject.managerId,
      own ? actor.actorRole : null,
      own ? actor.actorApiKeyPrefix : null,
      own && actor.viaActAs,
      JSON.stringify({ trigger: triggerData(t), value: valueIsPrivileged ? null : value }),
      JSON.stringify(valueIsPrivileged ? { value } : {}),
    );
    const n = values.length - 8;
    return `($${n + 1}::uuid, 'USAGE_TRIGGER_FIRED', $${n + 2}::uuid, $${n + 3}::uuid, $${n + 4}::"Role", $${n + 5}, $${n + 6}::boolean, $${n + 7}::jsonb, $${n + 8}::jsonb)`;
  });
  await run(`INSERT INTO "events" (${EVENT_COLUMNS}) VALUES ${rows.join(", ")}`, values);

  // SUSPEND triggers are on sub-accounts and, on a balance, only one of their own: always the charged account.
  const suspending = fired.find((t) => t.action === "SUSPEND" && t.accountId === account.id && account.kind === "SUB_ACCOUNT");
  if (!suspending) return { suspended: null };
  const [suspended] = await run<Pick<Account, "suspendedAt" | "updatedAt">>(SUSPEND, [
    account.id,
    newId(),
    actor.actorRole,
    actor.actorApiKeyPrefix,
    actor.viaActAs,
    JSON.stringify({ usageTriggerId: suspending.id }),
    newId(),
    JSON.stringify({
      subAccount: accountData({ ...account, status: "SUSPENDED" }),
      reason: "USAGE_TRIGGER",
      triggerId: encodeGlobalID("UsageTrigger", suspending.id),
    }),
  ]);
  return { suspended: suspended ?? null };
}

/** checkUsageTriggers inside a Prisma transaction (billing.ts chargeUsage). */
export function checkUsageTriggersInTx(tx: Tx, viewer: Viewer, charge: TriggeringCharge): Promise<TriggersOutcome> {
  return checkUsageTriggers(<T>(text: string, values: unknown[]) => tx.$queryRawUnsafe<T[]>(text, ...values), viewer, charge);
}
