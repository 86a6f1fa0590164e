import { assertMayPerform } from "../auth/actions.js";
import { reachableAccounts, within } from "../auth/rowFilters.js";
import { generateApiKeySecret } from "../auth/secrets.js";
import type { Viewer } from "../auth/viewer.js";
import type { prisma, Tx } from "../db/client.js";
import { AccountNotActiveError, LimitExceededError, NotFoundError, ValidationError } from "../domain/errors.js";
import { effectiveStatus, planTransition, type StatusAction } from "../domain/lifecycle.js";
import { parseAmount } from "../domain/money.js";
import { InputChecker, LIMITS } from "../domain/text.js";
import type { Account, Prisma } from "../generated/prisma/client.js";
import { recordAudit } from "./audit.js";
import { accountData, statusEventType } from "./events.js";
import { callerOf, claimIdempotencyKey, storeIdempotentResult } from "./idempotency.js";
import { inTransaction, lockReachableAccount, withEmailConflict } from "./transactions.js";

export const DEFAULT_SUB_ACCOUNT_LIMIT = 1000;
export const MAX_SUB_ACCOUNT_LIMIT = 1_000_000;

/** Loads an account the viewer may reach, of the given kind, or throws NotFoundError. */
export async function findReachableAccount(
  db: Tx | typeof prisma,
  viewer: Viewer,
  id: string,
  kind?: "MANAGER" | "SUB_ACCOUNT",
): Promise<Account & { manager: Account | null }> {
  const account = await db.account.findFirst({
    where: within<Prisma.AccountWhereInput>({ id, ...(kind ? { kind } : {}) }, reachableAccounts(viewer)),
    include: { manager: true },
  });
  if (!account) throw new NotFoundError(kind === "MANAGER" ? "The manager" : kind === "SUB_ACCOUNT" ? "The sub-account" : "The account");
  return account;
}

/** Throws AccountNotActiveError unless the account (and, for a sub-account, its manager) is ACTIVE. */
export function assertAccountActive(account: Account & { manager: Account | null }): void {
  const status = effectiveStatus(account.status, account.manager?.status);
  if (status !== "ACTIVE") {
    throw new AccountNotActiveError(status, account.status === "ACTIVE" ? "The account's manager is suspended" : `The account is ${status.toLowerCase()}`);
  }
}

// ---------------------------------------------------------------- managers

export interface CreateManagerInput {
  email: string;
  organizationName?: string | null;
  subAccountLimit?: number | null;
  apiKeyName?: string | null;
}

/** Operator only: a new manager with its first API key (the secret is returned once). */
export async function createManager(viewer: Viewer, input: CreateManagerInput) {
  assertMayPerform(viewer, "manager:create");
  const check = new InputChecker();
  const email = check.email(input.email, "email")!;
  const organizationName = check.name(input.organizationName, "organizationName", LIMITS.organizationName);
  const apiKeyName = check.name(input.apiKeyName ?? "Default key", "apiKeyName", LIMITS.apiKeyName);
  const limit = input.subAccountLimit ?? DEFAULT_SUB_ACCOUNT_LIMIT;
  check.check(limit >= 0 && limit <= MAX_SUB_ACCOUNT_LIMIT, "subAccountLimit", `must be from 0 to ${MAX_SUB_ACCOUNT_LIMIT}`);
  check.done();

  const key = generateApiKeySecret();
  return withEmailConflict(() =>
    inTransaction(async (tx) => {
      const manager = await tx.account.create({
        data: { kind: "MANAGER", email, organizationName: organizationName ?? null, subAccountLimit: limit },
      });
      const apiKey = await tx.apiKey.create({
        data: { accountId: manager.id, name: apiKeyName!, prefix: key.prefix, secretHash: key.hash },
      });
      await recordAudit(tx, viewer, {
        action: "manager.create",
        account: manager,
        event: { type: "MANAGER_CREATED", data: { manager: accountData(manager) } },
      });
      return { manager, apiKey, secret: key.secret };
    }),
  );
}

export interface UpdateManagerInput {
  id: string;
  email?: string | null;
  organizationName?: string | null;
  subAccountLimit?: number | null;
  autoDeleteClosedSubAccounts?: boolean | null;
}

/** The operator, or the manager itself; only the operator changes subAccountLimit. */
export async function updateManager(viewer: Viewer, input: UpdateManagerInput) {
  assertMayPerform(viewer, "manager:update");
  if (input.subAccountLimit != null) assertMayPerform(viewer, "manager:setSubAccountLimit");
  const check = new InputChecker();
  const email = check.email(input.email, "email");
  const organizationName = check.name(input.organizationName, "organizationName", LIMITS.organizationName);
  if (input.subAccountLimit != null) {
    check.check(input.subAccountLimit >= 0 && input.subAccountLimit <= MAX_SUB_ACCOUNT_LIMIT, "subAccountLimit", `must be from 0 to ${MAX_SUB_ACCOUNT_LIMIT}`);
  }
  check.done();

  return withEmailConflict(() =>
    inTransaction(async (tx) => {
      const manager = await findReachableAccount(tx, viewer, input.id, "MANAGER");
      const data = {
        ...(email !== undefined ? { email } : {}),
        ...(input.organizationName !== undefined ? { organizationName: organizationName ?? null } : {}),
        ...(input.subAccountLimit != null ? { subAccountLimit: input.subAccountLimit } : {}),
        ...(input.autoDeleteClosedSubAccounts != null ? { autoDeleteClosedSubAccounts: input.autoDeleteClosedSubAccounts } : {}),
      };
      const changed = Object.entries(data)
        .filter(([k, v]) => manager[k as keyof typeof data] !== v)
        .map(([k]) => k);
      if (changed.length === 0) return manager;
      const updated = await tx.account.update({ where: { id: manager.id }, data });
      await recordAudit(tx, viewer, {
        action: "manager.update",
        account: updated,
        details: { fields: changed },
        event: { type: "MANAGER_UPDATED", data: { manager: accountData(updated), changedFields: changed } },
      });
      return updated;
    }),
  );
}

/** Operator only: suspend or reactivate a manager (managers cannot be closed). */
export async function changeManagerStatus(viewer: Viewer, id: string, action: "suspend" | "reactivate") {
  assertMayPerform(viewer, "manager:changeStatus");
  return inTransaction(async (tx) => {
    await lockReachableAccount(tx, viewer, id);
    const manager = await findReachableAccount(tx, viewer, id, "MANAGER");
    const plan = planTransition(manager.status, action);
    if (!plan.change) return manager;
    const updated = await tx.account.update({
      where: { id },
      data: { status: plan.to, suspendedAt: plan.to === "SUSPENDED" ? new Date() : null },
    });
    await recordAudit(tx, viewer, {
      action: `manager.${action}`,
      account: updated,
      event: { type: statusEventType("MANAGER", plan.to), data: { manager: accountData(updated) } },
    });
    return updated;
  });
}

// ------------------------------------------------------------ sub-accounts

export interface CreateSubAccountInput {
  email: string;
  organizationName?: string | null;
  rollupBilling?: boolean | null;
  allowCustomPricing?: boolean | null;
  creditLimit?: string | null;
  idempotencyKey?: string | null;
}

/** Manager only: a new sub-account under the caller, within its subAccountLimit. */
export async function createSubAccount(viewer: Viewer, input: CreateSubAccountInput) {
  assertMayPerform(viewer, "subAccount:create");
  const check = new InputChecker();
  const email = check.email(input.email, "email")!;
  const organizationName = check.name(input.organizationName, "organizationName", LIMITS.organizationName);
  const idempotencyKey = check.name(input.idempotencyKey, "idempotencyKey", LIMITS.idempotencyKey);
  let creditLimitMicros: bigint | null = null;
  if (input.creditLimit != null) {
    const parsed = parseAmount(input.creditLimit, { allowZero: true });
    if (parsed.ok) creditLimitMicros = parsed.micros;
    else check.add("creditLimit", `creditLimit ${parsed.message}`);
  }
  check.done();
  const managerId = viewer.accountId;

  return withEmailConflict(() =>
    inTransaction(async (tx) => {
      const keyScope = idempotencyKey && { caller: callerOf(viewer), accountId: managerId, operation: "createSubAccount", key: idempotencyKey };
      if (keyScope) {
        const claim = await claimIdempotencyKey<{ subAccountId: string }>(tx, { ...keyScope, input: { ...input, idempotencyKey: undefined } });
        if (claim.replayed) {
          const first = await tx.account.findUnique({ where: { id: claim.ref.subAccountId } });
          // The first result is gone (closed, then purged): still the first result, as a typed answer.
          if (!first) throw new NotFoundError("The sub-account this idempotency key created");
          return first;
        }
      }
      // The lock serialises concurrent creations under one manager, so the
      // count below cannot be overtaken between the check and the insert.
      await lockReachableAccount(tx, viewer, managerId);
      const manager = await findReachableAccount(tx, viewer, managerId, "MANAGER");
      assertAccountActive(manager);
      const open = await tx.account.count({ where: { managerId, status: { not: "CLOSED" } } });
      if (open >= manager.subAccountLimit) {
        throw new LimitExceededError(`This manager already has ${open} open sub-accounts (limit ${manager.subAccountLimit})`, manager.subAccountLimit);
      }
      const sub = await tx.account.create({
        data: {
          kind: "SUB_ACCOUNT",
          managerId,
          email,
          organizationName: organizationName ?? null,
          rollupBilling: input.rollupBilling ?? false,
          allowCustomPricing: input.allowCustomPricing ?? false,
          creditLimitMicros,
        },
      });
      await recordAudit(tx, viewer, {
        action: "subAccount.create",
        account: sub,
        event: { type: "SUB_ACCOUNT_CREATED", data: { subAccount: accountData(sub) } },
      });
      if (keyScope) await storeIdempotentResult(tx, keyScope, { subAccountId: sub.id });
      return sub;
    }),
  );
}

export interface UpdateSubAccountInput {
  id: string;
  email?: string | null;
  organizationName?: string | null;
  allowCustomPricing?: boolean | null;
  creditLimit?: string | null;
  clearCreditLimit?: boolean | null;
}

/** The fields of updateSubAccount beyond the profile: its settings (auth/actions.ts "subAccount:updateSettings"). */
const SETTINGS_FIELDS = ["allowCustomPricing", "creditLimit", "clearCreditLimit"] as const;

/** Its manager or an operator changes anything here; the sub-account itself only email and name. */
export async function updateSubAccount(viewer: Viewer, input: UpdateSubAccountInput) {
  assertMayPerform(viewer, "subAccount:updateProfile");
  // Refused as a whole: an update mixing allowed and forbidden fields changes nothing.
  if (SETTINGS_FIELDS.some((field) => input[field] != null)) assertMayPerform(viewer, "subAccount:updateSettings");
  const check = new InputChecker();
  const email = check.email(input.email, "email");
  const organizationName = check.name(input.organizationName, "organizationName", LIMITS.organizationName);
  let creditLimitMicros: bigint | undefined;
  if (input.creditLimit != null) {
    const parsed = parseAmount(input.creditLimit, { allowZero: true });
    if (parsed.ok) creditLimitMicros = parsed.micros;
    else check.add("creditLimit", `creditLimit ${parsed.message}`);
    if (input.clearCreditLimit) check.add("clearCreditLimit", "cannot be combined with creditLimit");
  }
  check.done();

  return withEmailConflict(() =>
    inTransaction(async (tx) => {
      await lockReachableAccount(tx, viewer, input.id);
      const sub = await findReachableAccount(tx, viewer, input.id, "SUB_ACCOUNT");
      if (sub.status === "CLOSED") planTransition("CLOSED", "close"); // closed accounts are frozen
      const nextLimit = input.clearCreditLimit ? null : (creditLimitMicros ?? sub.creditLimitMicros);
      if (nextLimit != null && nextLimit < sub.totalSpentMicros) {
        throw ValidationError.of("creditLimit", "creditLimit cannot be below the sub-account's total spent");
      }
      const data = {
        ...(email !== undefined ? { email } : {}),
        ...(input.organizationName !== undefined ? { organizationName: organizationName ?? null } : {}),
        ...(input.allowCustomPricing != null ? { allowCustomPricing: input.allowCustomPricing } : {}),
        ...(creditLimitMicros !== undefined || input.clearCreditLimit ? { creditLimitMicros: nextLimit } : {}),
      };
      const changed = Object.entries(data)
        .filter(([k, v]) => sub[k as keyof typeof data] !== v)
        .map(([k]) => k);
      if (changed.length === 0) return sub;
      const updated = await tx.account.update({ where: { id: sub.id }, data });
      await recordAudit(tx, viewer, {
        action: "subAccount.update",
        account: updated,
        details: { fields: changed },
        event: { type: "SUB_ACCOUNT_UPDATED", data: { subAccount: accountData(updated), changedFields: changed } },
      });
      return updated;
    }),
  );
}

/**
 * Suspend, reactivate or close a sub-account: its manager or an operator.
 * Closing revokes every key and releases every number in the same transaction.
 */
export async function changeSubAccountStatus(viewer: Viewer, id: string, action: StatusAction) {
  assertMayPerform(viewer, "subAccount:changeStatus");
  return inTransaction(async (tx) => {
    await lockReachableAccount(tx, viewer, id);
    const sub = await findReachableAccount(tx, viewer, id, "SUB_ACCOUNT");
    const plan = planTransition(sub.status, action);
    if (!plan.change) return sub;
    const now = new Date();
    const updated = await tx.account.update({
      where: { id },
      data: plan.to === "CLOSED" ? { status: "CLOSED", closedAt: now } : { status: plan.to, suspendedAt: plan.to === "SUSPENDED" ? now : null },
    });
    if (plan.to === "CLOSED") {
      await tx.apiKey.updateMany({ where: { accountId: id, revokedAt: null }, data: { revokedAt: now } });
      await tx.phoneNumber.updateMany({
        where: { accountId: id, status: "ACTIVE" },
        data: { status: "RELEASED", activeNumber: null, releasedAt: now },
      });
    }
    await recordAudit(tx, viewer, {
      action: `subAccount.${action}`,
      account: updated,
      event: { type: statusEventType("SUB_ACCOUNT", plan.to), data: { subAccount: accountData(updated) } },
    });
    return updated;
  });
}
