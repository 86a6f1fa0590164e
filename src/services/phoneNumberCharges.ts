import { encodeGlobalID } from "@pothos/plugin-relay";
import type { Viewer } from "../auth/viewer.js";
import type { Tx } from "../db/client.js";
import type { UsageRecord } from "../generated/prisma/client.js";
import { chargeUsage, loadForCharge } from "./billing.js";

/**
 * The seam between phone numbers and billing: provisioning a number records
 * one PHONE_NUMBER_MONTHLY usage and charges it like any usage, inside the
 * provisioning transaction (so a failed charge provisions nothing; the
 * provisioning's own audit event covers it). The usage's idempotency key is
 * "phoneNumber:" and the number's global id: a number is charged once, and
 * the key shown in UsageRecord.idempotencyKey names the number the way
 * clients know it, never by a bare database id.
 */
/** The key prefix of number charges; recordUsage refuses keys that start with it, so none can pass for one. */
export const NUMBER_CHARGE_KEY_PREFIX = "phoneNumber:";

export async function chargeNumberProvisioning(
  tx: Tx,
  viewer: Viewer,
  account: { id: string; managerId: string | null; kind: "MANAGER" | "SUB_ACCOUNT" },
  phoneNumberId: string,
): Promise<UsageRecord> {
  return chargeUsage(tx, viewer, await loadForCharge(tx, account.id), {
    product: "PHONE_NUMBER_MONTHLY",
    quantity: 1,
    idempotencyKey: NUMBER_CHARGE_KEY_PREFIX + encodeGlobalID("PhoneNumber", phoneNumberId),
  });
}
