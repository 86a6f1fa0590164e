import type { Tx } from "../db/client.js";
import type { Viewer } from "../auth/viewer.js";

/**
 * The seam between phone numbers and billing: provisioning a number records
 * one PHONE_NUMBER_MONTHLY usage and charges it like any usage, inside the
 * provisioning transaction (so a failed charge provisions nothing).
 * Implemented by the billing service.
 */
export async function chargeNumberProvisioning(
  _tx: Tx,
  _viewer: Viewer,
  _account: { id: string; managerId: string | null; kind: "MANAGER" | "SUB_ACCOUNT" },
  _phoneNumberId: string,
): Promise<void> {
  // Billing (step 3) replaces this with a real charge.
}
