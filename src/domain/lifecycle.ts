import type { AccountStatus } from "../generated/prisma/client.js";
import { InvalidStateTransitionError } from "./errors.js";

export type StatusAction = "suspend" | "reactivate" | "close";

const TARGET: Record<StatusAction, AccountStatus> = {
  suspend: "SUSPENDED",
  reactivate: "ACTIVE",
  close: "CLOSED",
};

/**
 * The lifecycle rule: ACTIVE <-> SUSPENDED, ACTIVE or SUSPENDED -> CLOSED,
 * CLOSED is terminal. Asking for the status an account already has (other
 * than CLOSED) is an idempotent no-op. Throws InvalidStateTransitionError.
 */
export function planTransition(current: AccountStatus, action: StatusAction): { change: false } | { change: true; to: AccountStatus } {
  const to = TARGET[action];
  if (current === "CLOSED") throw new InvalidStateTransitionError("CLOSED", to);
  if (current === to) return { change: false };
  return { change: true, to };
}

/** A sub-account's status as it acts: SUSPENDED while its manager is suspended. */
export function effectiveStatus(own: AccountStatus, managerStatus: AccountStatus | undefined): AccountStatus {
  if (own === "ACTIVE" && managerStatus === "SUSPENDED") return "SUSPENDED";
  return own;
}

/** Closed sub-accounts are purged this long after closing, when auto-delete is on. */
export const PURGE_AFTER_MS = 30 * 24 * 60 * 60 * 1000;

/** When a closed sub-account will be purged: null while open or while auto-delete is off. */
export function scheduledDeletionAt(closedAt: Date | null, autoDelete: boolean): Date | null {
  return closedAt && autoDelete ? new Date(closedAt.getTime() + PURGE_AFTER_MS) : null;
}
