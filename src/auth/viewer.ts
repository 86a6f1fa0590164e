import type { AccountStatus } from "../generated/prisma/client.js";

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
  apiKey: { id: string; prefix: string };
}

export const isOperator = (v: Viewer): v is OperatorViewer => v.role === "OPERATOR";
export const isManager = (v: Viewer): v is AccountViewer => v.role === "MANAGER";
export const isSubAccount = (v: Viewer): v is AccountViewer => v.role === "SUB_ACCOUNT";
