import type { Role } from "../generated/prisma/client.js";
import { remainingCredit } from "./money.js";

/** The fields of an account row that billing rules read. */
export interface BillingAccount {
  id: string;
  kind: "MANAGER" | "SUB_ACCOUNT";
  managerId: string | null;
  rollupBilling: boolean;
  balanceMicros: bigint;
  creditLimitMicros: bigint | null;
  totalSpentMicros: bigint;
}

/** The manager whose tree an account belongs to. */
export function treeManagerId(account: Pick<BillingAccount, "id" | "kind" | "managerId">): string {
  return account.kind === "MANAGER" ? account.id : account.managerId!;
}

/** True when the account has a prepaid balance of its own (managers, and sub-accounts without rollup billing). */
export function hasOwnBalance(account: Pick<BillingAccount, "kind" | "rollupBilling">): boolean {
  return account.kind === "MANAGER" || !account.rollupBilling;
}

/** The account whose balance pays the account's charges: its manager under rollup billing, else itself. */
export function payingAccountId(account: Pick<BillingAccount, "id" | "kind" | "managerId" | "rollupBilling">): string {
  return hasOwnBalance(account) ? account.id : account.managerId!;
}

export interface BalanceView {
  isSubAccount: boolean;
  shared: boolean;
  /** Null where the viewer may not see the funds: a sub-account looking at its shared (rollup) balance. */
  availableMicros: bigint | null;
  creditLimitMicros: bigint | null;
  totalSpentMicros: bigint;
  remainingCreditMicros: bigint | null;
}

/**
 * An account's balance as a viewer sees it (DOMAIN.md: Billing). A rollup
 * sub-account's available funds are its manager's balance, shown to the
 * manager and operators only. `totalSpent` is the account's own charges
 * (for a manager: the usage recorded on the manager itself, not its
 * sub-accounts' rollup charges).
 */
export function balanceView(account: BillingAccount, managerBalanceMicros: bigint | null, viewerRole: Role): BalanceView {
  const shared = !hasOwnBalance(account);
  return {
    isSubAccount: account.kind === "SUB_ACCOUNT",
    shared,
    availableMicros: !shared ? account.balanceMicros : viewerRole === "SUB_ACCOUNT" ? null : managerBalanceMicros,
    creditLimitMicros: account.creditLimitMicros,
    totalSpentMicros: account.totalSpentMicros,
    remainingCreditMicros: remainingCredit(account.creditLimitMicros, account.totalSpentMicros),
  };
}

/** Successful top-ups an account may make in TOP_UP_WINDOW_MS (a guard against card testing). */
export const TOP_UPS_PER_WINDOW = 5;
export const TOP_UP_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Seconds until one more top-up is allowed, given the times of the account's
 * successful top-ups within the window before `now`; 0 when one is allowed now.
 */
export function topUpRetryAfterSeconds(recent: readonly Date[], now: Date): number {
  if (recent.length < TOP_UPS_PER_WINDOW) return 0;
  const sorted = [...recent].sort((a, b) => a.getTime() - b.getTime());
  // The window holds one fewer top-up once this one leaves it.
  const leaving = sorted[sorted.length - TOP_UPS_PER_WINDOW]!;
  return Math.max(1, Math.ceil((leaving.getTime() + TOP_UP_WINDOW_MS - now.getTime()) / 1000));
}

/** Most units one usage record may carry. */
export const MAX_USAGE_QUANTITY = 1_000_000;
