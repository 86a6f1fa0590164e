// recordUsage's idempotency key shares the usage records' key space with the
// charge of a provisioned number ("phoneNumber:<global id>"). A caller that
// names such a key gets a typed answer, never an unexpected error, and
// nothing is written.
import { describe, expect, it } from "vitest";
import { createManager, provisionNumber } from "../helpers/factories.js";
import { expectInvariants, recordUsage, result } from "./operations.js";

describe("recordUsage with the key of a number's provisioning charge", () => {
  it("is an IdempotencyConflictError, not an unexpected error, and charges nothing", async () => {
    const manager = await createManager();
    const number = await provisionNumber(manager.token, manager.id);
    const res = await recordUsage(manager.token, { accountId: manager.id, idempotencyKey: `phoneNumber:${number.id}` });
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    expect(result(res).__typename).toBe("IdempotencyConflictError");
    // Twice: the answer does not depend on anything the first attempt left behind.
    expect(result(await recordUsage(manager.token, { accountId: manager.id, idempotencyKey: `phoneNumber:${number.id}` })).__typename).toBe(
      "IdempotencyConflictError",
    );
    await expectInvariants([manager.id]);
  });
});
