import { encodeGlobalID } from "@pothos/plugin-relay";
import { assertMayPerform } from "../auth/actions.js";
import { reachablePhoneNumbers, within } from "../auth/rowFilters.js";
import type { Viewer } from "../auth/viewer.js";
import { prisma, type Tx } from "../db/client.js";
import { ConflictError, CreditLimitExceededError, NotFoundError } from "../domain/errors.js";
import { InputChecker } from "../domain/text.js";
import type { Prisma } from "../generated/prisma/client.js";
import { assertAccountActive, findReachableAccount } from "./accounts.js";
import { recordAudit } from "./audit.js";
import { accountData, moneyData, phoneNumberData, recordCreditLimitRefusal } from "./events.js";
import type { AccountRef } from "./ids.js";
import { chargeNumberProvisioning } from "./phoneNumberCharges.js";
import { inTransaction, isUniqueViolation, lockReachableAccount } from "./transactions.js";

/** Longest friendly name a number may carry (characters, after trimming). */
export const FRIENDLY_NAME_MAX_LENGTH = 100;

/** Locks a phone number row until the transaction ends (serialises transfers and releases of it). */
async function lockPhoneNumber(tx: Tx, id: string): Promise<void> {
  await tx.$executeRaw`SELECT 1 FROM "phone_numbers" WHERE "id" = ${id}::uuid FOR UPDATE`;
}

/**
 * Queues concurrent provisionings of one number before they take any row
 * lock. The unique index on activeNumber still decides who wins; this only
 * keeps a loser from waiting on the winner's index entry while holding an
 * account lock that the winner (its audit event, its charge) may need: on
 * Postgres, a provisioning on a manager racing one of the same number in its
 * sub-account deadlocked that way.
 */
async function lockNumberValue(tx: Tx, number: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(72100402, hashtext(${number}))`;
}

/** A phone number the viewer may reach (released ones too), with its owner, or NotFoundError. */
async function findReachablePhoneNumber(tx: Tx, viewer: Viewer, id: string) {
  const phoneNumber = await tx.phoneNumber.findFirst({
    where: within<Prisma.PhoneNumberWhereInput>({ id }, reachablePhoneNumbers(viewer)),
    include: { account: true },
  });
  if (!phoneNumber) throw new NotFoundError("The phone number");
  return phoneNumber;
}

/** The manager whose tree an account belongs to. */
const treeOf = (account: { id: string; kind: "MANAGER" | "SUB_ACCOUNT"; managerId: string | null }) =>
  account.kind === "MANAGER" ? account.id : account.managerId;

export interface ProvisionPhoneNumberInput {
  account: AccountRef;
  /** Already strict E.164: the E164 scalar refuses anything else before this runs. */
  number: string;
  friendlyName?: string | null;
}

/**
 * Provisions a number on a reachable account (the account itself, its manager
 * or an operator) that is ACTIVE under an ACTIVE manager, and charges it.
 * A number ACTIVE anywhere else is a ConflictError: the unique index on
 * `activeNumber` decides, so of two concurrent provisions exactly one wins.
 */
export async function provisionPhoneNumber(viewer: Viewer, input: ProvisionPhoneNumberInput) {
  assertMayPerform(viewer, "phoneNumber:provision");
  const check = new InputChecker();
  const friendlyName = check.name(input.friendlyName, "friendlyName", FRIENDLY_NAME_MAX_LENGTH);
  check.done();

  try {
    return await inTransaction(async (tx) => {
      await lockNumberValue(tx, input.number);
      // The account lock orders this against closing the account: a close
      // either sees (and releases) this number or makes this one see CLOSED.
      await lockReachableAccount(tx, viewer, input.account.id, input.account.kind);
      const account = await findReachableAccount(tx, viewer, input.account.id, input.account.kind);
      assertAccountActive(account);
      const phoneNumber = await tx.phoneNumber.create({
        data: { accountId: account.id, number: input.number, activeNumber: input.number, friendlyName: friendlyName ?? null },
      });
      // May throw InsufficientFundsError or CreditLimitExceededError, which
      // rolls the number back with everything else.
      const charge = await chargeNumberProvisioning(tx, viewer, account, phoneNumber.id);
      await recordAudit(tx, viewer, {
        action: "phoneNumber.provision",
        account,
        details: { phoneNumberId: phoneNumber.id, number: phoneNumber.number },
        event: {
          type: "PHONE_NUMBER_PROVISIONED",
          data: { phoneNumber: phoneNumberData(phoneNumber) },
          privileged: { charge: { usageRecordId: encodeGlobalID("UsageRecord", charge.id), cost: moneyData(charge.costMicros) } },
        },
      });
      return phoneNumber;
    });
  } catch (error) {
    if (isUniqueViolation(error, "activeNumber")) throw new ConflictError("This phone number is already active on an account");
    if (error instanceof CreditLimitExceededError) {
      // The transaction rolled back; the refusal is an event of its own (DOMAIN.md).
      const account = await prisma.account.findUnique({ where: { id: input.account.id } });
      if (account) await recordCreditLimitRefusal(prisma, viewer, account, { product: "PHONE_NUMBER_MONTHLY", quantity: 1 });
    }
    throw error;
  }
}

/**
 * Moves an ACTIVE number to another ACTIVE account of the same manager's tree
 * (manager <-> its sub-accounts, sub-account <-> sub-account). Managers and
 * operators only; the number keeps its id, number, friendly name and
 * createdAt, and nothing is charged.
 *
 * Edge cases, in the order they are checked:
 * - a sub-account gets ForbiddenError, whatever it names (auth/actions.ts);
 * - a number or target the caller cannot reach is NotFoundError, as is a
 *   target in another manager's tree (for an operator too: the number is not
 *   "found" in the target's tree);
 * - a RELEASED number is a ConflictError: a released row is history, and the
 *   same number may since have been provisioned again as a new row;
 * - a transfer to the current owner is an idempotent success that changes
 *   nothing and writes no audit event (like suspending a suspended account),
 *   whatever the owner's status;
 * - a target that is not ACTIVE (suspended, closed, or under a suspended
 *   manager) is AccountNotActiveError.
 */
export async function transferPhoneNumber(viewer: Viewer, id: string, to: AccountRef) {
  assertMayPerform(viewer, "phoneNumber:transfer");
  return inTransaction(async (tx) => {
    // Number first, then target account: closing an account takes its own row
    // and then its numbers' rows, so neither order can wait on the other.
    await lockPhoneNumber(tx, id);
    const phoneNumber = await findReachablePhoneNumber(tx, viewer, id);
    await lockReachableAccount(tx, viewer, to.id, to.kind);
    const target = await findReachableAccount(tx, viewer, to.id, to.kind);
    if (treeOf(target) !== treeOf(phoneNumber.account)) throw new NotFoundError("The account");
    if (phoneNumber.status === "RELEASED") throw new ConflictError("A released phone number cannot be transferred");
    const { account: _owner, ...row } = phoneNumber;
    if (target.id === phoneNumber.accountId) return row;
    assertAccountActive(target);
    const moved = await tx.phoneNumber.update({ where: { id }, data: { accountId: target.id } });
    await recordAudit(tx, viewer, {
      action: "phoneNumber.transfer",
      account: target,
      details: { phoneNumberId: id, number: phoneNumber.number, fromAccountId: phoneNumber.accountId },
      // Where it came from may be a sibling of the new owner: for managers and operators.
      event: {
        type: "PHONE_NUMBER_TRANSFERRED",
        data: { phoneNumber: phoneNumberData(moved) },
        privileged: { from: accountData(phoneNumber.account).id },
      },
    });
    return moved;
  });
}

/**
 * Releases an ACTIVE number: its owner, the owner's manager or an operator.
 * The row stays (listed with `includeReleased`) and the number is free to be
 * provisioned again, as a new row. Releasing a RELEASED number is a
 * ConflictError, not an idempotent success: by then the same number may be
 * active again elsewhere, and a silent success would hide that. (Transfers
 * treat released numbers the same way.)
 */
export async function releasePhoneNumber(viewer: Viewer, id: string) {
  assertMayPerform(viewer, "phoneNumber:release");
  return inTransaction(async (tx) => {
    await lockPhoneNumber(tx, id);
    const phoneNumber = await findReachablePhoneNumber(tx, viewer, id);
    if (phoneNumber.status === "RELEASED") throw new ConflictError("The phone number is already released");
    const released = await tx.phoneNumber.update({
      where: { id },
      data: { status: "RELEASED", activeNumber: null, releasedAt: new Date() },
    });
    await recordAudit(tx, viewer, {
      action: "phoneNumber.release",
      account: phoneNumber.account,
      details: { phoneNumberId: id, number: phoneNumber.number },
      event: { type: "PHONE_NUMBER_RELEASED", data: { phoneNumber: phoneNumberData(released) } },
    });
    return released;
  });
}
