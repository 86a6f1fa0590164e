import type { AccountStatus } from "../generated/prisma/client.js";
import type { Permission } from "./actions.js";

/** Who is calling: built once per request from the bearer secret. */
export type Viewer = OperatorViewer | AccountViewer;

export interface OperatorViewer {
  role: "OPERATOR";
}

export interface AccountViewer {
  role: "MANAGER" | "SUB_ACCOUNT";
  accountId: string;
  /** The caller's manager; null for a manager. */
  managerId: string | null;
  accountStatus: AccountStatus;
  /** Status of the caller's manager (for a sub-account), else of itself. */
  managerStatus: AccountStatus;
  /**
   * The key that authenticated the request (its prefix null, and its id
   * "operator", when the operator token acts as this sub-account).
   */
  apiKey: {
    id: string;
    prefix: string | null;
    expiresAt?: Date | null;
    /**
     * What a restricted key may do (DOMAIN.md "Least-privilege keys"); null
     * or absent: everything its role may. Acting as a sub-account, the
     * calling key's, so the request has the intersection of both rights.
     */
    permissions?: ReadonlySet<Permission> | null;
  };
  /**
   * Set when the caller acts as this sub-account (header Act-As-Account): a
   * manager key of its tree, or the operator token. The request then runs
   * with the sub-account's rights and schema; changes are recorded as the
   * caller's, with viaActAs.
   */
  actingAs?: { role: "MANAGER" | "OPERATOR"; accountId: string | null };
}

/** The permissions a viewer's key is restricted to; null: unrestricted (the operator token always is). */
export const permissionsOf = (viewer: Viewer): ReadonlySet<Permission> | null => (viewer.role === "OPERATOR" ? null : (viewer.apiKey.permissions ?? null));

/** Whether the viewer's key holds a permission (an unrestricted key holds every one; its role still decides what it may do). */
export const holds = (viewer: Viewer, permission: Permission): boolean => permissionsOf(viewer)?.has(permission) ?? true;

export const isOperator = (v: Viewer): v is OperatorViewer => v.role === "OPERATOR";
export const isManager = (v: Viewer): v is AccountViewer => v.role === "MANAGER";
export const isSubAccount = (v: Viewer): v is AccountViewer => v.role === "SUB_ACCOUNT";

/** Who a change is recorded as (audit events, events): the real caller, also when it acts as a sub-account. */
export function actorOf(viewer: Viewer): { actorRole: Viewer["role"]; actorApiKeyPrefix: string | null; viaActAs: boolean } {
  if (viewer.role === "OPERATOR") return { actorRole: "OPERATOR", actorApiKeyPrefix: null, viaActAs: false };
  if (viewer.actingAs) return { actorRole: viewer.actingAs.role, actorApiKeyPrefix: viewer.apiKey.prefix, viaActAs: true };
  return { actorRole: viewer.role, actorApiKeyPrefix: viewer.apiKey.prefix, viaActAs: false };
}
