// transferPhoneNumber: within one manager's tree, to an ACTIVE account, same id and properties.
import { randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { describe, expect, it } from "vitest";
import { gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, createWorld, provisionNumber, uniquePhoneNumber } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { expectError, expectTypename, numbersOf, ownAuditEvents, provision, release, result, transfer } from "./operations.js";

const statusChange = (mutation: string, token: string, id: string) =>
  gqlData(`mutation($id: ID!) { ${mutation}(input: { id: $id }) { __typename } }`, { token, variables: { id } });

describe("transferPhoneNumber", () => {
  it("moves a number between two sub-accounts of a manager, keeping its id and properties", async () => {
    const { manager, sub, sibling } = await createWorld();
    const original = expectTypename(
      result(await provision(sub.token, { accountId: sub.id, number: uniquePhoneNumber(), friendlyName: "Front desk" })),
      "ProvisionPhoneNumberSuccess",
    ).phoneNumber;
    const r = result(await transfer(manager.token, original.id, sibling.id));
    expect(r.__typename).toBe("TransferPhoneNumberSuccess");
    expect(expectTypename(r, "TransferPhoneNumberSuccess").phoneNumber).toEqual({ ...original, account: { id: sibling.id } });

    expect(await numbersOf(sub.token, sub.id, true)).toEqual({ totalCount: 0, nodes: [] });
    expect((await numbersOf(sibling.token, sibling.id))!.nodes).toEqual([{ ...original, account: { id: sibling.id } }]);
    // The number now follows its new owner on every path.
    const node = graphql(`query($id: ID!) { node(id: $id) { id } }`);
    expect((await gqlData(node, { token: sub.token, variables: { id: original.id } })).node).toBeNull();
    expect((await gqlData(node, { token: sibling.token, variables: { id: original.id } })).node).toEqual({ id: original.id });
  });

  it("moves numbers between a manager and its sub-accounts, both ways", async () => {
    const { manager, sub } = await createWorld();
    const n = await provisionNumber(manager.token, manager.id);
    expect(expectTypename(result(await transfer(manager.token, n.id, sub.id)), "TransferPhoneNumberSuccess").phoneNumber.account).toEqual({ id: sub.id });
    expect(expectTypename(result(await transfer(manager.token, n.id, manager.id)), "TransferPhoneNumberSuccess").phoneNumber.account).toEqual({
      id: manager.id,
    });
    expect(expectTypename(result(await transfer(OPERATOR_TOKEN, n.id, sub.id)), "TransferPhoneNumberSuccess").phoneNumber.account).toEqual({ id: sub.id });
  });

  it("writes one phoneNumber.transfer audit event about the new owner", async () => {
    const { manager, sub, sibling } = await createWorld();
    const n = await provisionNumber(sub.token, sub.id);
    result(await transfer(manager.token, n.id, sibling.id));
    const [event, ...more] = (await ownAuditEvents(manager.token)).filter((e) => e.action === "phoneNumber.transfer");
    expect(more).toEqual([]);
    expect(event).toMatchObject({ actorRole: "MANAGER", account: { id: sibling.id } });
    expect((await ownAuditEvents(sibling.token)).map((e) => e.action)).toContain("phoneNumber.transfer");
    expect((await ownAuditEvents(sub.token)).map((e) => e.action)).not.toContain("phoneNumber.transfer");
  });

  it("a transfer to the current owner is an idempotent success that writes no audit event", async () => {
    const { manager, sub } = await createWorld();
    const n = await provisionNumber(sub.token, sub.id);
    const before = await ownAuditEvents(manager.token);
    const r = result(await transfer(manager.token, n.id, sub.id));
    expect(r.__typename).toBe("TransferPhoneNumberSuccess");
    expect(expectTypename(r, "TransferPhoneNumberSuccess").phoneNumber).toMatchObject({ id: n.id, status: "ACTIVE", account: { id: sub.id } });
    expect(await ownAuditEvents(manager.token)).toEqual(before);
  });

  it("a target in another manager's tree is a NotFoundError, for the manager and for an operator", async () => {
    const { manager, sub, otherManager, otherSub } = await createWorld();
    const n = await provisionNumber(sub.token, sub.id);
    for (const [token, target] of [
      [manager.token, otherSub.id],
      [manager.token, otherManager.id],
      [OPERATOR_TOKEN, otherSub.id],
      [OPERATOR_TOKEN, otherManager.id],
      [manager.token, encodeGlobalID("SubAccount", randomUUID())],
      [manager.token, n.id],
    ] as const) {
      expect(expectError(result(await transfer(token, n.id, target))).code).toBe("NOT_FOUND");
    }
    // A foreign manager cannot move the number into its own tree either.
    expect(expectError(result(await transfer(otherManager.token, n.id, otherSub.id))).code).toBe("NOT_FOUND");
    expect((await numbersOf(OPERATOR_TOKEN, sub.id))!.nodes.map((x) => x.id)).toEqual([n.id]);
  });

  it("a sub-account gets the same FORBIDDEN for its own number and its sibling's: transferPhoneNumber is not in its schema", async () => {
    const { manager, sub, sibling } = await createWorld();
    const own = await provisionNumber(sub.token, sub.id);
    const siblings = await provisionNumber(manager.token, sibling.id);
    const answers = [await transfer(sub.token, own.id, sibling.id), await transfer(sub.token, own.id, sub.id), await transfer(sub.token, siblings.id, sub.id)];
    for (const res of answers) expect(res.body).toEqual(answers[0]!.body);
    // The mutation and the result types it names are all out of the sub-account's schema.
    expect(new Set(answers[0]!.body.errors?.map((e) => e.extensions?.code))).toEqual(new Set(["FORBIDDEN"]));
  });

  it("refuses a target that is not ACTIVE with AccountNotActiveError, and moves nothing", async () => {
    const manager = await createManager();
    const [owner, suspended, closed] = await Promise.all([createSubAccount(manager), createSubAccount(manager), createSubAccount(manager)]);
    await statusChange("suspendSubAccount", manager.token, suspended.id);
    await statusChange("closeSubAccount", manager.token, closed.id);
    const n = await provisionNumber(owner.token, owner.id);
    expect(result(await transfer(manager.token, n.id, suspended.id))).toMatchObject({ code: "ACCOUNT_NOT_ACTIVE", status: "SUSPENDED" });
    expect(result(await transfer(manager.token, n.id, closed.id))).toMatchObject({ code: "ACCOUNT_NOT_ACTIVE", status: "CLOSED" });

    // While the manager is suspended, every account of its tree acts as SUSPENDED.
    await statusChange("suspendManager", OPERATOR_TOKEN, manager.id);
    expect(result(await transfer(OPERATOR_TOKEN, n.id, manager.id))).toMatchObject({ code: "ACCOUNT_NOT_ACTIVE", status: "SUSPENDED" });
    await statusChange("reactivateManager", OPERATOR_TOKEN, manager.id);
    expect((await numbersOf(manager.token, owner.id))!.nodes.map((x) => x.id)).toEqual([n.id]);
    // Moving a number away from a suspended account is allowed: the target is what must be ACTIVE.
    await statusChange("suspendSubAccount", manager.token, owner.id);
    expect(expectTypename(result(await transfer(manager.token, n.id, manager.id)), "TransferPhoneNumberSuccess").phoneNumber.account).toEqual({
      id: manager.id,
    });
  });

  it("a released number cannot be transferred (ConflictError), not even to its last owner", async () => {
    const { manager, sub, sibling } = await createWorld();
    const n = await provisionNumber(sub.token, sub.id);
    result(await release(sub.token, n.id));
    expect(expectError(result(await transfer(manager.token, n.id, sibling.id))).code).toBe("CONFLICT");
    expect(expectError(result(await transfer(manager.token, n.id, sub.id))).code).toBe("CONFLICT");
    expect((await numbersOf(manager.token, sub.id, true))!.nodes).toMatchObject([{ id: n.id, status: "RELEASED", account: { id: sub.id } }]);
  });

  it("concurrent transfers and a release of one number leave it in one consistent state", async () => {
    const { manager, sub, sibling } = await createWorld();
    const n = await provisionNumber(sub.token, sub.id);
    const [first, releaseRes, second] = await Promise.all([
      transfer(manager.token, n.id, sibling.id),
      release(manager.token, n.id),
      transfer(manager.token, n.id, manager.id),
    ]);
    const results = [result(first), result(releaseRes), result(second)];
    const [number] = (
      await gqlData(graphql(`query($id: ID!) { nodes(ids: [$id]) { ... on PhoneNumber { status account { id } } } }`), {
        token: OPERATOR_TOKEN,
        variables: { id: n.id },
      })
    ).nodes;
    if (!number || !("status" in number)) throw new Error(`the number is not readable: ${JSON.stringify(number)}`);
    const released = result(releaseRes).__typename === "ReleasePhoneNumberSuccess";
    if (released) expect(number.status).toBe("RELEASED");
    else expect(number.status).toBe("ACTIVE");
    // Every transfer that ran after the release saw it and refused.
    const events = (await ownAuditEvents(manager.token)).filter((e) => e.action.startsWith("phoneNumber.") && e.action !== "phoneNumber.provision");
    expect(events.length).toBe(results.filter((r) => r.__typename.endsWith("Success")).length);
  });
});
