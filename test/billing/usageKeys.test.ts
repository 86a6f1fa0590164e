// The charge of a provisioned number carries the key "phoneNumber:<global id>"
// (UsageRecord.idempotencyKey). recordUsage keeps that prefix for them: a
// caller's key that starts with it is a ValidationError, never an unexpected
// error, and nothing is written.
import { describe, expect, it } from "vitest";
import { createManager, provisionNumber } from "../helpers/factories.js";
import { expectInvariants, recordUsage, result } from "./operations.js";

describe("recordUsage with the key of a number's provisioning charge", () => {
  it("is a ValidationError on idempotencyKey, not an unexpected error, and charges nothing", async () => {
    const manager = await createManager();
    const number = await provisionNumber(manager.token, manager.id);
    const res = await recordUsage(manager.token, { accountId: manager.id, idempotencyKey: `phoneNumber:${number.id}` });
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    expect(result(res)).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["idempotencyKey"] }] });
    // Twice: the answer does not depend on anything the first attempt left behind.
    expect(result(await recordUsage(manager.token, { accountId: manager.id, idempotencyKey: `phoneNumber:${number.id}` })).__typename).toBe("ValidationError");
    await expectInvariants([manager.id]);
  });
});
