// Billing: charges, top-ups and transfers (DOMAIN.md: Billing). Choices
// where DOMAIN.md is silent:
// - A manager's totalSpent is its own usage (usage recorded on the manager
//   itself); rollup charges count in the sub-account's totalSpent while they
//   debit the manager's balance. Managers have no credit limit.
// - A rate may be "0" (a free product); a charge at 0 still writes its usage
//   record and a ledger entry of 0.
// - transferBalance moves funds between any two own balances of one tree:
//   manager <-> sub-account and sub-account <-> sub-account. The receiver must
//   be ACTIVE; the sender may be suspended or closed (a manager can recover a
//   closed sub-account's funds before the purge).
// - A ledger entry's account (causedBy) is the charged account for a CHARGE,
//   the topped-up account for a TOP_UP, and the other side for a transfer.
// - Idempotency scopes: recordUsage and topUpBalance on the account named,
//   transferBalance on the tree's manager; inputs compare after parsing
//   ("7" and "7.000000" are one amount).
// Concurrency: every operation is one transaction that locks the account it
// changes (lockAccount; transfers lock both sides in id order) and debits
// with a conditional UPDATE, so the invariants hold across processes.
// recordUsage does the same in one SQL statement, which holds a shared
// balance's lock for far less time (usageCharges.ts).

import { encodeGlobalID } from "@pothos/plugin-relay";
import { assertMayPerform } from "../auth/actions.js";
import type { Viewer } from "../auth/viewer.js";
import type { prisma, Tx } from "../db/client.js";
import { hasOwnBalance, MAX_USAGE_QUANTITY, payingAccountId, TOP_UP_WINDOW_MS, topUpRetryAfterSeconds, treeManagerId } from "../domain/billing.js";
import { InsufficientFundsError, RateLimitedError, ValidationError } from "../domain/errors.js";
import { checkAmount, costOf, debit, formatMicros, MAX_TOP_UP_MICROS } from "../domain/money.js";
import { unitPriceOf } from "../domain/pricing.js";
import { InputChecker, LIMITS } from "../domain/text.js";
import type { Account, Prisma, Product, UsageRecord } from "../generated/prisma/client.js";
import { assertAccountActive, findReachableAccount } from "./accounts.js";
import { recordAudit } from "./audit.js";
import { accountData, moneyData, recordEvent } from "./events.js";
import { callerOf, claimIdempotencyKey, storeIdempotentResult } from "./idempotency.js";
import type { AccountRef } from "./ids.js";
import { NUMBER_CHARGE_KEY_PREFIX } from "./phoneNumberCharges.js";
import { loadPriceList } from "./pricing.js";
import { inTransaction, lockAccount, lockReachableAccount } from "./transactions.js";
import { assertChargeable, chargeRecordedUsage, insufficientFunds, type UsageInput } from "./usageCharges.js";
import { checkUsageTriggersInTx } from "./usageTriggers.js";

type AccountWithManager = Account & { manager: Account | null };

/**
 * Adds `deltaMicros` to a balance, refusing (null) to take it below zero;
 * returns the new balance, and whether charges on it check usage triggers
 * (as the row stands under the lock the UPDATE took).
 */
async function moveBalance(tx: Tx, accountId: string, deltaMicros: bigint): Promise<{ balanceMicros: bigint; hasUsageTriggers: boolean } | null> {
  // One conditional UPDATE: the row lock it takes, and Postgres re-checking
  // the condition against the latest committed row, keep concurrent debits
  // of one balance from overdrawing it, on any number of gateway processes.
  const rows = await tx.$queryRaw<{ balanceMicros: bigint; hasUsageTriggers: boolean }[]>`
    UPDATE "accounts" SET "balanceMicros" = "balanceMicros" + ${deltaMicros}
    WHERE "id" = ${accountId}::uuid AND "balanceMicros" + ${deltaMicros} >= 0
    RETURNING "balanceMicros", "hasUsageTriggers"`;
  return rows[0] ? { balanceMicros: BigInt(rows[0].balanceMicros), hasUsageTriggers: rows[0].hasUsageTriggers } : null;
}

// ------------------------------------------------------------------ usage

/**
 * Charges one usage of an account inside the caller's transaction, which must
 * hold the account's row lock (lockAccount) and have read the account after
 * taking it: prices it at the account's effective rate, adds it to
 * `totalSpent` within the credit limit, debits the paying balance (the
 * manager's under rollup billing) without taking it below zero, and writes
 * one usage record and one ledger entry; then checks the usage triggers
 * the charge concerns, in the same transaction (usageTriggers.ts). Throws
 * AccountNotActiveError, CreditLimitExceededError or InsufficientFundsError,
 * recording nothing. (recordUsage charges in plain SQL instead: usageCharges.ts.)
 */
export async function chargeUsage(tx: Tx, viewer: Viewer, account: AccountWithManager, usage: UsageInput): Promise<UsageRecord> {
  const priceList = await loadPriceList(tx, account);
  const unitPriceMicros = unitPriceOf(priceList, usage.product);
  const costMicros = costOf(unitPriceMicros, usage.quantity);
  // The row lock makes totalSpent stable here; the CHECK constraint backs it up.
  assertChargeable(account, costMicros);
  const payerId = payingAccountId(account);
  const payer = await moveBalance(tx, payerId, debit(costMicros));
  if (payer === null) throw insufficientFunds(account.id, payerId);
  const balanceAfterMicros = payer.balanceMicros;
  await tx.account.update({ where: { id: account.id }, data: { totalSpentMicros: { increment: costMicros } } });
  const record = await tx.usageRecord.create({
    data: {
      accountId: account.id,
      product: usage.product,
      quantity: usage.quantity,
      unitPriceMicros,
      costMicros,
      idempotencyKey: usage.idempotencyKey,
      occurredAt: usage.occurredAt ?? new Date(),
    },
  });
  await tx.ledgerEntry.create({
    data: {
      balanceAccountId: payerId,
      causedByAccountId: account.id,
      kind: "CHARGE",
      amountMicros: debit(costMicros),
      balanceAfterMicros,
      usageRecordId: record.id,
    },
  });
  const totalSpentMicros = account.totalSpentMicros + costMicros;
  if (costMicros > 0n && totalSpentMicros === account.creditLimitMicros) {
    await recordEvent(tx, viewer, account, {
      type: "CREDIT_LIMIT_REACHED",
      data: { creditLimit: moneyData(account.creditLimitMicros), totalSpent: moneyData(totalSpentMicros), refused: false },
    });
  }
  // The account's flag was read under its lock, the paying balance's under the debit's.
  if (account.hasUsageTriggers || payer.hasUsageTriggers) {
    await checkUsageTriggersInTx(tx, viewer, { account, product: usage.product, costMicros, balanceAfterMicros });
  }
  return record;
}

/** How far from now an `occurredAt` may lie: usage is reported late, never from the future. */
const OCCURRED_AT_PAST_LIMIT_MS = 366 * 24 * 60 * 60 * 1000;
const OCCURRED_AT_FUTURE_SKEW_MS = 5 * 60 * 1000;

/**
 * Records usage on a reachable account (the account itself, its manager or
 * an operator) and charges it, in one statement (usageCharges.ts). The same
 * idempotency key on the same account returns the first record and charges
 * once; with another input it is an IdempotencyConflictError.
 */
export async function recordUsage(viewer: Viewer, account: AccountRef, input: UsageInput) {
  assertMayPerform(viewer, "usage:record");
  const check = new InputChecker();
  const idempotencyKey = check.name(input.idempotencyKey, "idempotencyKey", LIMITS.idempotencyKey)!;
  check.check(
    !idempotencyKey?.startsWith(NUMBER_CHARGE_KEY_PREFIX),
    "idempotencyKey",
    `keys starting with "${NUMBER_CHARGE_KEY_PREFIX}" are kept for the charges of provisioned numbers`,
  );
  check.check(
    Number.isInteger(input.quantity) && input.quantity >= 1 && input.quantity <= MAX_USAGE_QUANTITY,
    "quantity",
    `quantity must be from 1 to ${MAX_USAGE_QUANTITY}`,
  );
  if (input.occurredAt) {
    const age = Date.now() - input.occurredAt.getTime();
    check.check(age >= -OCCURRED_AT_FUTURE_SKEW_MS, "occurredAt", "occurredAt must not be in the future");
    check.check(age <= OCCURRED_AT_PAST_LIMIT_MS, "occurredAt", "occurredAt must be within the last year");
  }
  check.done();

  return chargeRecordedUsage(viewer, account, { ...input, idempotencyKey });
}

/** The account with its manager, as it stands inside the transaction (for the Balance of a result). */
function reloadAccount(tx: Tx, id: string): Promise<AccountWithManager> {
  return tx.account.findUniqueOrThrow({ where: { id }, include: { manager: true } });
}

/**
 * An account locked for a charge (lockAccount) and read as it stands under
 * the lock, for charges made inside another operation's transaction.
 */
export async function loadForCharge(tx: Tx, accountId: string): Promise<AccountWithManager> {
  await lockAccount(tx, accountId);
  return reloadAccount(tx, accountId);
}

// ---------------------------------------------------------------- top-ups

/**
 * Adds funds to an account's own balance: the account itself, its manager
 * (a payment, not a debit of the manager's balance) or an operator. A rollup
 * sub-account has no balance to top up. At most TOP_UPS_PER_WINDOW successful
 * top-ups per account in 24 hours; idempotent replays do not count.
 */
export async function topUpBalance(viewer: Viewer, { id: accountId, kind }: AccountRef, input: { amount: string; idempotencyKey: string }) {
  assertMayPerform(viewer, "balance:topUp");
  const check = new InputChecker();
  const idempotencyKey = check.name(input.idempotencyKey, "idempotencyKey", LIMITS.idempotencyKey)!;
  const amountMicros = checkAmount(check, input.amount, "amount", { max: MAX_TOP_UP_MICROS });
  check.done();

  return inTransaction(async (tx) => {
    // The lock serialises top-ups of one account, so the count below is exact.
    await lockReachableAccount(tx, viewer, accountId, kind);
    const account = await findReachableAccount(tx, viewer, accountId, kind);
    const keyScope = { caller: callerOf(viewer), accountId, operation: "topUpBalance", key: idempotencyKey };
    const claim = await claimIdempotencyKey<{ ledgerEntryId: string }>(tx, { ...keyScope, input: { amountMicros } });
    if (claim.replayed) {
      const entry = await tx.ledgerEntry.findUniqueOrThrow({ where: { id: claim.ref.ledgerEntryId } });
      return { account: await reloadAccount(tx, accountId), entry };
    }
    if (!hasOwnBalance(account)) {
      throw ValidationError.of("accountId", "This sub-account has rollup billing and no balance of its own: top up its manager");
    }
    assertAccountActive(account);
    const now = new Date();
    const recent = await tx.topUp.findMany({
      where: { accountId, createdAt: { gt: new Date(now.getTime() - TOP_UP_WINDOW_MS) } },
      select: { createdAt: true },
    });
    const retryAfterSeconds = topUpRetryAfterSeconds(
      recent.map((t) => t.createdAt),
      now,
    );
    if (retryAfterSeconds > 0) {
      throw new RateLimitedError(`This account has had ${recent.length} top-ups in the last 24 hours`, retryAfterSeconds);
    }
    const balanceAfterMicros = (await moveBalance(tx, accountId, amountMicros))!.balanceMicros;
    const entry = await tx.ledgerEntry.create({
      data: {
        balanceAccountId: accountId,
        causedByAccountId: accountId,
        kind: "TOP_UP",
        amountMicros,
        balanceAfterMicros,
      },
    });
    await tx.topUp.create({ data: { accountId, createdAt: now } });
    await storeIdempotentResult(tx, keyScope, { ledgerEntryId: entry.id });
    await recordAudit(tx, viewer, {
      action: "balance.topUp",
      account,
      details: { amount: formatMicros(amountMicros), ledgerEntryId: entry.id },
      event: { type: "BALANCE_TOPPED_UP", data: { amount: moneyData(amountMicros) }, privileged: { ledgerEntryId: encodeGlobalID("LedgerEntry", entry.id) } },
    });
    return { account: await reloadAccount(tx, accountId), entry };
  });
}

// -------------------------------------------------------------- transfers

/**
 * Moves funds between two own balances of one manager's tree (the manager
 * and its sub-accounts without rollup billing, in any direction, sub-account
 * to sub-account too): the manager or an operator. The receiving account must
 * be ACTIVE; the sending one may be suspended or closed, so a manager can
 * take back what a closed sub-account holds. Never below zero.
 */
export async function transferBalance(viewer: Viewer, input: { from: AccountRef; to: AccountRef; amount: string; idempotencyKey: string }) {
  assertMayPerform(viewer, "balance:transfer");
  const check = new InputChecker();
  const idempotencyKey = check.name(input.idempotencyKey, "idempotencyKey", LIMITS.idempotencyKey)!;
  const amountMicros = checkAmount(check, input.amount, "amount");
  check.check(input.from.id !== input.to.id, "toAccountId", "toAccountId must differ from fromAccountId");
  check.done();

  return inTransaction(async (tx) => {
    // Both rows, in a fixed order, so two opposite transfers cannot deadlock.
    for (const ref of [input.from, input.to].sort((a, b) => a.id.localeCompare(b.id))) await lockReachableAccount(tx, viewer, ref.id, ref.kind);
    const from = await findReachableAccount(tx, viewer, input.from.id, input.from.kind);
    const to = await findReachableAccount(tx, viewer, input.to.id, input.to.kind);
    const manager = treeManagerId(from);
    if (treeManagerId(to) !== manager) {
      throw ValidationError.of("toAccountId", "Funds move only within one manager's tree");
    }
    const keyScope = { caller: callerOf(viewer), accountId: manager, operation: "transferBalance", key: idempotencyKey };
    const claim = await claimIdempotencyKey<{ fromEntryId: string }>(tx, { ...keyScope, input: { fromAccountId: from.id, toAccountId: to.id, amountMicros } });
    const result = async () => ({ from: await reloadAccount(tx, from.id), to: await reloadAccount(tx, to.id) });
    if (claim.replayed) return result();
    const check = new InputChecker();
    for (const [path, account] of [
      ["fromAccountId", from],
      ["toAccountId", to],
    ] as const) {
      if (!hasOwnBalance(account)) check.add(path, "This sub-account has rollup billing and no balance of its own");
    }
    check.done();
    assertAccountActive(to);
    const fromAfter = (await moveBalance(tx, from.id, debit(amountMicros)))?.balanceMicros;
    if (fromAfter === undefined) throw new InsufficientFundsError("The sending balance does not cover this transfer");
    const toAfter = (await moveBalance(tx, to.id, amountMicros))!.balanceMicros;
    // Each side's entry names the other side as its cause.
    const out = await tx.ledgerEntry.create({
      data: {
        balanceAccountId: from.id,
        causedByAccountId: to.id,
        kind: "TRANSFER_OUT",
        amountMicros: debit(amountMicros),
        balanceAfterMicros: fromAfter,
      },
    });
    const into = await tx.ledgerEntry.create({
      data: {
        balanceAccountId: to.id,
        causedByAccountId: from.id,
        kind: "TRANSFER_IN",
        amountMicros,
        balanceAfterMicros: toAfter,
      },
    });
    await storeIdempotentResult(tx, keyScope, { fromEntryId: out.id });
    const details = { amount: formatMicros(amountMicros), fromAccountId: from.id, toAccountId: to.id };
    // One event on each side. The other side may be the manager or a sibling: a counterparty is for managers and operators.
    const transferEvent = (direction: "OUT" | "IN", counterparty: Account, entryId: string) => ({
      type: "BALANCE_TRANSFERRED" as const,
      data: { direction, amount: moneyData(amountMicros) },
      privileged: { counterparty: accountData(counterparty).id, ledgerEntryId: encodeGlobalID("LedgerEntry", entryId) },
    });
    await recordAudit(tx, viewer, {
      action: "balance.transferOut",
      account: from,
      details: { ...details, ledgerEntryId: out.id },
      event: transferEvent("OUT", to, out.id),
    });
    await recordAudit(tx, viewer, {
      action: "balance.transferIn",
      account: to,
      details: { ...details, ledgerEntryId: into.id },
      event: transferEvent("IN", from, into.id),
    });
    return result();
  });
}

// ------------------------------------------------------------------ reads

/**
 * The ledger entries an account's Balance lists: its own balance's, or for a
 * rollup sub-account the entries on its manager's balance that it caused.
 */
export function ledgerOf(account: Pick<Account, "id" | "kind" | "managerId" | "rollupBilling">): Prisma.LedgerEntryWhereInput {
  return hasOwnBalance(account) ? { balanceAccountId: account.id } : { balanceAccountId: account.managerId!, causedByAccountId: account.id };
}

export interface UsageTotals {
  product: Product;
  quantity: number;
  records: number;
  costMicros: bigint;
}

/**
 * Usage per product of many accounts over one period, in one statement
 * (GROUP BY account and product), for the usage summaries of a whole tree.
 */
export async function loadUsageTotals(db: Tx | typeof prisma, accountIds: readonly string[], from: Date, to: Date): Promise<Map<string, UsageTotals[]>> {
  const groups = await db.usageRecord.groupBy({
    by: ["accountId", "product"],
    where: { accountId: { in: [...accountIds] }, occurredAt: { gte: from, lt: to } },
    _sum: { quantity: true, costMicros: true },
    _count: { _all: true },
    orderBy: [{ accountId: "asc" }, { product: "asc" }],
  });
  const totals = new Map<string, UsageTotals[]>(accountIds.map((id) => [id, []]));
  for (const g of groups) {
    totals.get(g.accountId)!.push({
      product: g.product,
      quantity: Number(g._sum.quantity ?? 0),
      records: g._count._all,
      costMicros: BigInt(g._sum.costMicros ?? 0n),
    });
  }
  return totals;
}
